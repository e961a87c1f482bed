import type { LatchStrings } from './en.ts';

export default {
  signIn: 'Anmelden',
  signOut: 'Abmelden',
  retry: 'Erneut versuchen',
  signingIn: 'Anmeldung läuft…',
  signedIn: 'Angemeldet als {name}',
  signedOut: 'Abgemeldet',
  account: 'Konto',
  error: 'Die Anmeldung ist fehlgeschlagen. Bitte versuchen Sie es erneut.',
  access_denied: 'Die Anmeldung wurde abgebrochen.',
  login_required: 'Bitte melden Sie sich an.',
  LATCH_UNREACHABLE: 'Der Anmeldedienst ist nicht erreichbar.',
  LATCH_STATE_MISMATCH: 'Die Anmeldung ist abgelaufen. Bitte versuchen Sie es erneut.',
} satisfies LatchStrings;
