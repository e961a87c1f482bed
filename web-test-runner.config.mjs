// Component tests (test/widget/**/*.test.ts) in Debian's Chromium, driven by Playwright.
// `npm test` runs this after the node:test suites; alone: `npx wtr --config web-test-runner.config.mjs`.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';

// The project's Chromium flags; keep in step with CHROMIUM_FLAGS in test/helpers/browser.ts.
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP *.latch.test 127.0.0.1',
];

export default {
  files: ['test/widget/**/*.test.ts'],
  nodeResolve: true,
  // @web/dev-server binds every interface when hostname is 'localhost' or '127.0.0.1' (it passes
  // host undefined to listen()). '127.1' is the same loopback address spelled so that it is passed
  // through: the server binds 127.0.0.1 only, and Chromium canonicalises the URL to 127.0.0.1.
  hostname: '127.1',
  plugins: [
    // tsconfig.json carries experimentalDecorators / useDefineForClassFields:false for Lit.
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) }),
  ],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      // launch() gives every run a fresh temporary profile and deletes it on close.
      launchOptions: {
        executablePath: process.env.LATCH_CHROMIUM ?? '/usr/bin/chromium',
        headless: true,
        args: chromiumFlags,
      },
    }),
  ],
  concurrency: 2,
  testFramework: { config: { timeout: 10_000 } },
  staticLogging: Boolean(process.env.CI) || !process.stdout.isTTY,
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').includes('Lit is in dev mode'),
};
