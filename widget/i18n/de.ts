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
  LATCH_UNREACHABLE: 'Der Anmeldedienst ist nicht erreichbar.',
} satisfies LatchStrings;
