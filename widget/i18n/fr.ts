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
  ended_logout: 'Vous avez été déconnecté dans une autre fenêtre.',
  ended_backchannel: 'Votre service de connexion a mis fin à la session.',
  ended_revoked: 'Cette session a été déconnectée depuis un autre appareil.',
  ended_expired: 'Votre session a expiré.',
  ended_everywhere: 'Vous avez été déconnecté sur tous les appareils.',
  sessions: 'Vos sessions',
  thisDevice: 'Cet appareil',
  lastSeen: 'Dernière activité {time}',
  signOutDevice: 'Déconnecter {device}',
  signOutOthers: 'Déconnecter toutes les autres',
  noOthers: "Vous n'êtes connecté sur aucun autre appareil.",
  deviceSignedOut: '{device} est déconnecté.',
  othersSignedOut: 'Toutes les autres sessions sont déconnectées.',
  sessionsOff: 'Vos sessions ne peuvent pas être affichées ici.',
  loadingSessions: 'Chargement de vos sessions…',
  close: 'Fermer',
  chooseProvider: 'Choisissez comment vous connecter',
  expiring: 'Votre session va bientôt prendre fin.',
  staySignedIn: 'Rester connecté',
  stayFailed: "Votre session n'a pas pu être prolongée. Enregistrez votre travail et reconnectez-vous.",
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
