// Playwright tests of the microsite: one signs in through the provider's page, as a visitor would;
// the others start signed in, with a session cookie minted for the user.
import { expect, test as base } from '@playwright/test';
import { mintSession } from 'latch/testing';
import { startApp } from '../app.mjs';

// The application, once per worker.
const test = base.extend<{}, { app: Awaited<ReturnType<typeof startApp>> }>({
  app: [async ({}, use) => {
    const app = await startApp();
    await use(app);
    await app.close();
  }, { scope: 'worker' }],
});

test('a visitor signs in on the provider\'s page and comes back signed in', async ({ page, app }) => {
  await page.goto(app.siteUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill('grace@example.test');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(app.siteUrl);
  await expect(page.locator('latch-user')).toHaveText('Grace Hopper');
});

test('a signed-in visitor sees their name at once', async ({ page, context, app }) => {
  const session = await mintSession({ provider: app.provider, user: 'ada@example.test', env: app.env });
  await context.addCookies(session.cookies);
  await page.goto(app.siteUrl);
  await expect(page.locator('latch-user')).toHaveText('Ada Lovelace');
  await expect(page.getByText('Sign in to see your orders.')).toBeHidden();
});

test('a visitor without a session is asked to sign in', async ({ page, app }) => {
  await page.goto(app.siteUrl);
  await expect(page.getByText('Sign in to see your orders.')).toBeVisible();
});
