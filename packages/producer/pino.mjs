// pino runs a transport in a worker thread, without the parent's loaders; the sources are
// TypeScript run through tsx (no build step), so register it here, as the CLI's bin does.
import { register } from 'tsx/esm/api';

register();
const { default: tributaryTransport } = await import('./src/pino.ts');
export default tributaryTransport;
