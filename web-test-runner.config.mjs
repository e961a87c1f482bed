// Component tests (test/widget/**/*.test.ts) in Debian's Chromium, driven by Playwright.
// `npm test` runs this after the node:test suites; alone: `npx wtr --config web-test-runner.config.mjs`.
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { tsImport } from 'tsx/esm/api';

// One list of Chromium flags for node:test suites and component tests: read it from the TS helper
// (tsImport loads it without installing a global TypeScript loader in the test runner's process).
const { CHROMIUM_FLAGS, CHROMIUM_PATH, DEFAULT_HOST_RULES } = await tsImport('./test/helpers/browser.ts', import.meta.url);

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
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: [...CHROMIUM_FLAGS, `--host-resolver-rules=${DEFAULT_HOST_RULES}`],
      },
    }),
  ],
  concurrency: 2,
  testFramework: { config: { timeout: 10_000 } },
  staticLogging: Boolean(process.env.CI) || !process.stdout.isTTY,
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').includes('Lit is in dev mode'),
};
