import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  reporter: 'list',
  use: {
    browserName: 'chromium',
    // Debian's Chromium (apt-get install chromium); drop these two lines to use Playwright's own browser.
    launchOptions: {
      executablePath: process.env.LATCH_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    chromiumSandbox: false,
  },
});
