/**
 * Drives Debian's Chromium through playwright-core (no browser downloads).
 * web-test-runner.config.mjs reads CHROMIUM_PATH / CHROMIUM_FLAGS / DEFAULT_HOST_RULES from here.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { toolSuiteOptions } from './net.ts';

export const CHROMIUM_PATH: string = process.env.LATCH_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every *.latch.test host (www., auth., …) resolves to 127.0.0.1; the URL's port is kept. */
export const DEFAULT_HOST_RULES = 'MAP *.latch.test 127.0.0.1';

export function chromiumAvailable(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Spread into node:test `describe` options. `{}` when Chromium is there; `{ skip }` (with a loud
 * warning) when it is missing locally; throws under CI=true, so a missing browser fails the run.
 */
export function browserSuiteOptions(): { skip?: string } {
  return toolSuiteOptions(
    `Chromium at ${CHROMIUM_PATH}`,
    chromiumAvailable(),
    'apt-get install chromium, or set LATCH_CHROMIUM',
  );
}

export interface LaunchedBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  /** Closes the browser and removes its user-data-dir. Idempotent. */
  close(): Promise<void>;
}

/**
 * Launches Chromium with the project's flags, a fresh user-data-dir (removed on close) and the
 * *.latch.test host rules. playwright-core's launch() refuses a --user-data-dir argument, so this
 * uses launchPersistentContext(dir): one context per launch — launch again for a second profile.
 *
 * Note: Playwright passes its own `--disable-features=…` list (it includes
 * ThirdPartyStoragePartitioning). Chromium honours only the last `--disable-features` switch,
 * so an extra one in `extraArgs` replaces Playwright's list rather than adding to it.
 *
 * `thirdPartyCookies`: the profile's cookie setting, written to its Preferences before launch
 * (`profile.cookie_controls_mode`: 1 blocks third-party cookies, 0 allows them). That preference is
 * what decides it in Debian's Chromium 156, whose fresh profiles block them: the
 * `--test-third-party-cookie-phaseout` switch changes nothing there (it neither blocks when the
 * preference allows, nor is needed when it blocks). Tests that depend on it should check it
 * (test/e2e/cross-site.test.ts probes it with a real cross-site cookie).
 */
export async function launchBrowser(
  opts: { extraArgs?: string[]; hostRules?: string; thirdPartyCookies?: 'block' | 'allow' } = {},
): Promise<LaunchedBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'latch-chromium-'));
  let context: BrowserContext;
  try {
    if (opts.thirdPartyCookies) {
      await mkdir(join(userDataDir, 'Default'));
      const mode = opts.thirdPartyCookies === 'block' ? 1 : 0;
      await writeFile(join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: mode } }));
    }
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        ...CHROMIUM_FLAGS,
        `--host-resolver-rules=${opts.hostRules ?? DEFAULT_HOST_RULES}`,
        ...(opts.extraArgs ?? []),
      ],
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    context,
    newPage: () => context.newPage(),
    close() {
      closing ??= context
        .close()
        .finally(() => rm(userDataDir, { recursive: true, force: true, maxRetries: 3 }));
      return closing;
    },
  };
}
