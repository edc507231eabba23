// `nclab browser [--install]`: says which browser nclab will use; with
// --install, installs Debian's Chromium when none is found and this is a
// root shell on Debian or Ubuntu (the setup script calls it that way).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { BrowserNotFoundError, findBrowser } from '../host/browser';

function canInstallWithApt(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
}

function apt(args: string[]): void {
  console.error(`[nclab] running: apt-get ${args.join(' ')}`);
  const result = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.status})`);
  }
}

/** Returns the process exit code. */
export async function browser(options: { install?: boolean }): Promise<number> {
  try {
    const found = await findBrowser();
    console.log(`${found.path} (from ${found.source})`);
    return 0;
  } catch (error) {
    if (!(error instanceof BrowserNotFoundError)) throw error;
    if (!options.install || !canInstallWithApt()) {
      console.error(error.message);
      return 1;
    }
  }

  console.error(
    '[nclab] no browser found: installing Debian\'s "chromium" package ' +
      '(it ships the SwiftShader WebGPU driver for machines without a GPU)',
  );
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', 'chromium']);
  const found = await findBrowser();
  console.log(`${found.path} (from ${found.source})`);
  return 0;
}
