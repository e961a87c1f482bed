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
};

/** Every string the widget shows. Error codes may be added as extra keys. */
export type LatchStrings = { [K in keyof typeof en]: string } & Record<string, string>;
