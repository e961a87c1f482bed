/**
 * The widget's events: `latch-` prefix, `bubbles` and `composed`, typed `detail`,
 * all sent through the one `emit()` below.
 */
import type { LatchUser, StepUpRequirement } from '../bff/contract.ts';
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
/** A step-up (`latch.stepUp()`, or `latch.fetch()` answered LATCH_STEP_UP_REQUIRED): what it asks, and how far it got. */
export interface LatchStepUpDetail extends StepUpRequirement {
  /** `started` (the popup opened, or the page is leaving for the provider), then `done`, `failed` or `cancelled`. */
  outcome: 'started' | 'done' | 'failed' | 'cancelled';
}

/** Every event the widget sends, by name. */
export interface LatchEventMap {
  /** The user signed in (popup, redirect return, or another tab). */
  'latch-login': CustomEvent<LatchLoginDetail>;
  /** The user is no longer signed in (sign-out here or in another tab, or the session ended). */
  'latch-logout': CustomEvent<LatchLogoutDetail>;
  /** Any change of the shared session; `detail` is a snapshot of it (`reason`: why a session ended). */
  'latch-session-change': CustomEvent<LatchSessionState>;
  /** A failure: a callback `latch_error`, a popup error, or the BFF being unreachable. */
  'latch-error': CustomEvent<LatchErrorInfo>;
  /**
   * Sent ahead of the session's end (see `configure({ expiringBefore })`). Cancelable:
   * `preventDefault()` keeps `<latch-login>`'s own warning (with "Stay signed in") from showing.
   */
  'latch-expiring': CustomEvent<LatchExpiringDetail>;
  /** A step-up started, and how it ended. */
  'latch-step-up': CustomEvent<LatchStepUpDetail>;
}

export type LatchEventName = keyof LatchEventMap;
export type LatchEventDetail<K extends LatchEventName> = LatchEventMap[K]['detail'];

/** An event's init: every event of the widget bubbles and is composed. */
export const init = <D>(detail: D): CustomEventInit<D> => ({ bubbles: true, composed: true, detail });

/**
 * The one place the widget dispatches events from; it adds the `latch-` prefix (`emit(el, 'login', ...)`).
 * (`latch-expiring`, the one cancelable event, is sent by ../chunks/events.ts with `init()`.)
 */
export const emit = <N extends LatchEventName extends `latch-${infer S}` ? S : never>(
  target: EventTarget,
  name: N,
  detail: LatchEventDetail<`latch-${N}`>,
): boolean => target.dispatchEvent(new CustomEvent('latch-' + name, init(detail)));

declare global {
  interface HTMLElementEventMap extends LatchEventMap {}
  interface DocumentEventMap extends LatchEventMap {}
  interface WindowEventMap extends LatchEventMap {}
}
