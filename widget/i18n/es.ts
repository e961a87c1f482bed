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
  ended_logout: 'Se cerró su sesión en otra ventana.',
  ended_backchannel: 'Su servicio de inicio de sesión finalizó la sesión.',
  ended_revoked: 'Esta sesión se cerró desde otro dispositivo.',
  ended_expired: 'Su sesión ha caducado.',
  ended_everywhere: 'Se cerró su sesión en todos los dispositivos.',
  sessions: 'Sus sesiones',
  thisDevice: 'Este dispositivo',
  lastSeen: 'Última actividad {time}',
  signOutDevice: 'Cerrar la sesión de {device}',
  signOutOthers: 'Cerrar todas las demás',
  noOthers: 'No tiene la sesión iniciada en ningún otro dispositivo.',
  deviceSignedOut: 'Se cerró la sesión de {device}.',
  othersSignedOut: 'Se cerraron todas las demás sesiones.',
  sessionsOff: 'Sus sesiones no se pueden mostrar aquí.',
  loadingSessions: 'Cargando sus sesiones…',
  close: 'Cerrar',
  chooseProvider: 'Elija cómo iniciar sesión',
  expiring: 'Su sesión está a punto de terminar.',
  staySignedIn: 'Mantener la sesión',
  stayFailed: 'No se pudo mantener su sesión. Guarde su trabajo e inicie sesión de nuevo.',
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
