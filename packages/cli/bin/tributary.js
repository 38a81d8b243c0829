#!/usr/bin/env node
// The sources are TypeScript run through tsx, so there is no build step between an edit
// and the command; register the loader before loading them.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv, process.env);
