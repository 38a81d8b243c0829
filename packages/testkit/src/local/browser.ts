import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { EngineError } from '../errors.js';

/**
 * A real headless Chromium (Debian's `chromium` package), driven by playwright-core: for
 * tests of the console's pages. Nothing is downloaded; the network stays closed (the flags
 * stop Chromium reaching for outside hosts).
 */
export async function launchChromium(options: { env?: NodeJS.ProcessEnv } = {}): Promise<Browser> {
  const env = options.env ?? process.env;
  // The real binary: /usr/bin/chromium is Debian's wrapper script.
  const executablePath = env['TRIBUTARY_CHROMIUM'] ?? '/usr/lib/chromium/chromium';
  if (!existsSync(executablePath)) throw new EngineError('TRIBUTARY_ENGINE_INSTALL_FAILED', 'chromium', "chromium not found: install Debian's chromium (apt-get install chromium) or set TRIBUTARY_CHROMIUM");
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
