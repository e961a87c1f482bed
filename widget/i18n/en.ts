/**
 * English, built into the bundle. Keys that are error codes give the words
 * shown for that code; others fall back to `error`.
 */
export const en = {
  signIn: 'Sign in',
  signOut: 'Sign out',
  retry: 'Retry',
  signingIn: 'Signing in…',
  signedIn: 'Signed in as {name}',
  signedOut: 'Signed out',
  account: 'Account',
  error: 'Sign-in failed. Please try again.',
  access_denied: 'Sign-in was cancelled.',
  LATCH_UNREACHABLE: 'The sign-in service cannot be reached.',
  // LATCH_ORIGIN_NOT_ALLOWED and LATCH_THIRD_PARTY_COOKIES_BLOCKED, the deployment's failures, are
  // said by the diagnosis (../client/diagnose.ts), which brings their English words.
};

/**
 * The password form's words (`<latch-login mode="password">`), in English; every language file
 * has its own `password` table. Not in the bundle nor in the language files: the form's own file
 * (dist/latch-password.js) carries them, for every language. Overrides work as for any string
 * (`latch.configure({ strings: { de: { username: 'Kennung' } } })`). In `retryIn`, `{time}` is
 * replaced by the wait the BFF asks for (Retry-After), e.g. "30 seconds".
 */
export const password = {
  username: 'Username',
  password: 'Password',
  LATCH_INVALID_CREDENTIALS: 'The username or password is incorrect.',
  LATCH_RATE_LIMITED: 'Too many attempts. Please wait a moment and try again.',
  retryIn: 'Too many attempts. Please wait {time} and try again.',
  passwordOff: 'Signing in with a password is not available here.',
};

/** Every string the widget shows. Error codes may be added as extra keys. */
export type LatchStrings = { [K in keyof typeof en]: string } & Record<string, string>;

/** The password form's words, which every language file has as well. */
export type LatchPasswordStrings = { [K in keyof typeof password]: string };
