// Writes deploy/crds/loggingpipelines.tributary.dev.yaml from the manifest's JSON Schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRD_NAME, loggingPipelineCrdYaml } from '@tributary/pipeline';

const dir = fileURLToPath(new URL('../deploy/crds/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}${CRD_NAME}.yaml`;
writeFileSync(file, loggingPipelineCrdYaml());
console.log(`wrote ${file}`);
