/**
 * English. Only `en`, the words of the states the bundle draws itself, is built into the bundle;
 * each chunk (../chunks/) brings the English words of what it shows, from a table here, and adds
 * them to `en` when it loads (so that `latch.configure({ strings })` overrides them as any other).
 * de.ts, fr.ts and es.ts have every word of every table. Keys that are error codes give the words
 * shown for that code; others fall back to `error`.
 */
export const en = {
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signedIn: 'Signed in as {name}',
  signedOut: 'Signed out',
};

/**
 * A failure's words and Retry: the error state (../chunks/error.ts), and the chunks that say a
 * failure themselves (the password form, the session panel). LATCH_ORIGIN_NOT_ALLOWED and
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED, the deployment's failures, are said by the diagnosis
 * (../chunks/diagnose.ts), which brings their English words.
 */
export const failure = {
  retry: 'Retry',
  error: 'Sign-in failed. Please try again.',
  access_denied: 'Sign-in was cancelled.',
  LATCH_UNREACHABLE: 'The sign-in service cannot be reached.',
};

/**
 * Why the session ended, said in the signed-out state (`ended_` and the reason of `/events`'
 * `session-ended`, or `expired` for `/me`'s 401 LATCH_SESSION_EXPIRED); brought by ../chunks/start.ts.
 */
export const ended = {
  ended_logout: 'You were signed out in another window.',
  ended_backchannel: 'Your sign-in provider ended the session.',
  ended_revoked: 'This session was signed out from another device.',
  ended_expired: 'Your session has expired.',
  ended_everywhere: 'You were signed out on all devices.',
};

/**
 * The account menu and the session panel (../chunks/menu.ts). In `lastSeen`, `{time}` is a relative
 * time ("5 minutes ago"); in `signOutDevice` and `deviceSignedOut`, `{device}` is the session's
 * device label ("Firefox on Linux").
 */
export const menu = {
  account: 'Account',
  signOut: 'Sign out',
  sessions: 'Your sessions',
  thisDevice: 'This device',
  lastSeen: 'Last active {time}',
  signOutDevice: 'Sign out {device}',
  signOutOthers: 'Sign out all others',
  noOthers: 'You are signed in on no other device.',
  deviceSignedOut: '{device} is signed out.',
  othersSignedOut: 'Every other session is signed out.',
  sessionsOff: 'Your sessions cannot be listed here.',
  loadingSessions: 'Loading your sessions…',
  close: 'Close',
};

/** The provider chooser (../chunks/chooser.ts): the menu's name. */
export const chooser = {
  chooseProvider: 'Choose how to sign in',
};

/** The expiry warning (../chunks/expiry.ts). */
export const expiry = {
  expiring: 'Your session is about to end.',
  staySignedIn: 'Stay signed in',
  stayFailed: 'You could not be kept signed in. Save your work and sign in again.',
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

/** Every English table but the password form's: what every language file has. */
type All = typeof en & typeof failure & typeof ended & typeof menu & typeof chooser & typeof expiry;

/** Every string the widget shows. Error codes may be added as extra keys. */
export type LatchStrings = { [K in keyof All]: string } & Record<string, string>;

/** The password form's words, which every language file has as well. */
export type LatchPasswordStrings = { [K in keyof typeof password]: string };
