import type { LatchStrings } from './en.ts';

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
} satisfies LatchStrings;
