export * from './spec/index.js';
export { loadManifests, MAX_MANIFEST_BYTES } from './manifest/load.js';
export type { LoadedManifest, LoadResult, LoadOptions } from './manifest/load.js';
export { ManifestValidator } from './manifest/validate.js';
export type { SchemaError } from './manifest/validate.js';
export { formatManifestError, formatPath } from './manifest/errors.js';
export type { ManifestError } from './manifest/errors.js';
