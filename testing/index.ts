/**
 * `latch/testing`: tools for the end-to-end tests of an application that uses Latch (docs/testing.md).
 *
 *   startTestProvider()  a development OpenID provider in this process, with the users you give
 *   mintSession()        a signed-in session cookie for one of them, without a browser
 *
 * For tests only. Nothing here is part of the BFF's bundles (dist/bff/), and the BFF never imports
 * it (scripts/build-bff.ts refuses it). startTestProvider() needs oidc-provider, an optional peer
 * dependency: `npm install --save-dev oidc-provider@^9`.
 */
export { startTestProvider, type ResolvedTestUser, type TestProvider, type TestProviderOptions, type TestUser } from './provider.ts';
export { mintSession, type BrowserCookie, type MintedSession, type MintSessionOptions } from './session.ts';
