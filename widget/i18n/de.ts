import type { LatchPasswordStrings, LatchStrings } from './en.ts';

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
  LATCH_THIRD_PARTY_COOKIES_BLOCKED: 'Sie sind angemeldet, aber Ihr Browser blockiert das auf dieser Seite. Nur der Betreiber der Website kann das beheben.',
  ended_logout: 'Sie wurden in einem anderen Fenster abgemeldet.',
  ended_backchannel: 'Ihr Anmeldedienst hat die Sitzung beendet.',
  ended_revoked: 'Diese Sitzung wurde von einem anderen Gerät aus abgemeldet.',
  ended_expired: 'Ihre Sitzung ist abgelaufen.',
  ended_everywhere: 'Sie wurden auf allen Geräten abgemeldet.',
  sessions: 'Ihre Sitzungen',
  thisDevice: 'Dieses Gerät',
  lastSeen: 'Zuletzt aktiv {time}',
  signOutDevice: '{device} abmelden',
  signOutOthers: 'Alle anderen abmelden',
  noOthers: 'Sie sind auf keinem anderen Gerät angemeldet.',
  deviceSignedOut: '{device} ist abgemeldet.',
  othersSignedOut: 'Alle anderen Sitzungen sind abgemeldet.',
  sessionsOff: 'Ihre Sitzungen können hier nicht angezeigt werden.',
  loadingSessions: 'Ihre Sitzungen werden geladen…',
  close: 'Schließen',
  chooseProvider: 'Wählen Sie, wie Sie sich anmelden',
  expiring: 'Ihre Sitzung endet gleich.',
  staySignedIn: 'Angemeldet bleiben',
  stayFailed: 'Sie konnten nicht angemeldet bleiben. Sichern Sie Ihre Arbeit und melden Sie sich erneut an.',
  // Said by the diagnosis (../client/diagnose.ts), which carries the English words.
  LATCH_ORIGIN_NOT_ALLOWED: 'Diese Website ist für den Anmeldedienst nicht freigegeben.',
} satisfies LatchStrings;

/** The password form's words (see en.ts), carried by the form's own file, not by this table's. */
export const password = {
  username: 'Benutzername',
  password: 'Passwort',
  LATCH_INVALID_CREDENTIALS: 'Der Benutzername oder das Passwort ist falsch.',
  LATCH_RATE_LIMITED: 'Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es dann erneut.',
  retryIn: 'Zu viele Versuche. Bitte warten Sie {time} und versuchen Sie es dann erneut.',
  passwordOff: 'Die Anmeldung mit Passwort ist hier nicht verfügbar.',
} satisfies LatchPasswordStrings;
