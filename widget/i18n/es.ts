import type { LatchStrings } from './en.ts';

export default {
  signIn: 'Iniciar sesión',
  signOut: 'Cerrar sesión',
  retry: 'Reintentar',
  signingIn: 'Iniciando sesión…',
  signedIn: 'Sesión iniciada como {name}',
  signedOut: 'Sesión cerrada',
  account: 'Cuenta',
  error: 'No se pudo iniciar sesión. Inténtelo de nuevo.',
  access_denied: 'Se canceló el inicio de sesión.',
  LATCH_UNREACHABLE: 'No se puede conectar con el servicio de inicio de sesión.',
} satisfies LatchStrings;
