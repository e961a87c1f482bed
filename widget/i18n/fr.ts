import type { LatchPasswordStrings, LatchStrings } from './en.ts';

export default {
  signIn: 'Se connecter',
  signOut: 'Se déconnecter',
  retry: 'Réessayer',
  signingIn: 'Connexion en cours…',
  signedIn: 'Connecté en tant que {name}',
  signedOut: 'Déconnecté',
  account: 'Compte',
  error: 'La connexion a échoué. Veuillez réessayer.',
  access_denied: 'La connexion a été annulée.',
  LATCH_UNREACHABLE: 'Le service de connexion est injoignable.',
  LATCH_THIRD_PARTY_COOKIES_BLOCKED: 'Vous êtes connecté, mais votre navigateur le bloque sur cette page. Seul le propriétaire du site peut corriger cela.',
  // Said by the diagnosis (../client/diagnose.ts), which carries the English words.
  LATCH_ORIGIN_NOT_ALLOWED: "Ce site n'est pas autorisé par le service de connexion.",
} satisfies LatchStrings;

/** The password form's words (see en.ts), carried by the form's own file, not by this table's. */
export const password = {
  username: "Nom d'utilisateur",
  password: 'Mot de passe',
  LATCH_INVALID_CREDENTIALS: "Le nom d'utilisateur ou le mot de passe est incorrect.",
  LATCH_RATE_LIMITED: 'Trop de tentatives. Veuillez patienter un instant, puis réessayer.',
  retryIn: 'Trop de tentatives. Veuillez patienter {time}, puis réessayer.',
  passwordOff: "La connexion par mot de passe n'est pas disponible ici.",
} satisfies LatchPasswordStrings;
