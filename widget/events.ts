/**
 * The widget's events: `latch-` prefix, `bubbles` and `composed`, typed `detail`,
 * all sent through the one `emit()` below.
 */
import type { LatchUser } from '../bff/contract.ts';
import type { LatchErrorInfo, LatchSessionState } from './client/session.ts';

export interface LatchLoginDetail {
  user: LatchUser;
}
export interface LatchLogoutDetail {
  /** Who was signed in until now. */
  user: LatchUser | null;
}
export interface LatchExpiringDetail {
  /** When the session ends, epoch milliseconds (from `/me`'s `expiresAt`). */
  expiresAt: number;
}

/** Every event the widget sends, by name. */
export interface LatchEventMap {
  /** The user signed in (popup, redirect return, or another tab). */
  'latch-login': CustomEvent<LatchLoginDetail>;
  /** The user is no longer signed in (sign-out here or in another tab, or the session ended). */
  'latch-logout': CustomEvent<LatchLogoutDetail>;
  /** Any change of the shared session; `detail` is a snapshot of it. */
  'latch-session-change': CustomEvent<LatchSessionState>;
  /** A failure: a callback `latch_error`, a popup error, or the BFF being unreachable. */
  'latch-error': CustomEvent<LatchErrorInfo>;
  /** Sent ahead of the session's end (see `configure({ expiringBefore })`). */
  'latch-expiring': CustomEvent<LatchExpiringDetail>;
}

export type LatchEventName = keyof LatchEventMap;
export type LatchEventDetail<K extends LatchEventName> = LatchEventMap[K]['detail'];

/** The one place the widget dispatches events from; it adds the `latch-` prefix (`emit(el, 'login', ...)`). */
export const emit = <N extends LatchEventName extends `latch-${infer S}` ? S : never>(
  target: EventTarget,
  name: N,
  detail: LatchEventDetail<`latch-${N}`>,
): boolean => target.dispatchEvent(new CustomEvent('latch-' + name, { bubbles: true, composed: true, detail }));

declare global {
  interface HTMLElementEventMap extends LatchEventMap {}
  interface DocumentEventMap extends LatchEventMap {}
  interface WindowEventMap extends LatchEventMap {}
}
