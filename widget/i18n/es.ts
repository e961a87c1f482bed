import type { LatchPasswordStrings, LatchStrings } from './en.ts';

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
  LATCH_THIRD_PARTY_COOKIES_BLOCKED: 'Ha iniciado sesión, pero su navegador lo bloquea en esta página. Solo el propietario del sitio puede solucionarlo.',
  // Said by the diagnosis (../client/diagnose.ts), which carries the English words.
  LATCH_ORIGIN_NOT_ALLOWED: 'Este sitio no está autorizado por el servicio de inicio de sesión.',
} satisfies LatchStrings;

/** The password form's words (see en.ts), carried by the form's own file, not by this table's. */
export const password = {
  username: 'Nombre de usuario',
  password: 'Contraseña',
  LATCH_INVALID_CREDENTIALS: 'El nombre de usuario o la contraseña son incorrectos.',
  LATCH_RATE_LIMITED: 'Demasiados intentos. Espere un momento e inténtelo de nuevo.',
  retryIn: 'Demasiados intentos. Espere {time} e inténtelo de nuevo.',
  passwordOff: 'El inicio de sesión con contraseña no está disponible aquí.',
} satisfies LatchPasswordStrings;
