/**
 * Latch's widget: `<latch-login>`, `<latch-gate>`, `<latch-user>` and the `latch` API.
 * Loading this module defines the elements (idempotently) and sets `window.latch`
 * (the API). The classic-script build also sets `window.LatchWidget` (this module's exports).
 */
import type { LatchUser } from '../bff/contract.ts';
import * as S from './client/session.ts';
import type {
  LatchConfig,
  LatchLoginOptions,
  LatchSessionState,
  LatchStepUpOptions,
  LatchStepUpOutcome,
} from './client/session.ts';
import { define } from './define.ts';
import { LatchGateElement } from './elements/gate.ts';
import { LatchLoginElement } from './elements/login.ts';
import { LatchUserElement } from './elements/user.ts';
import { overrideStrings, type LatchStringOverrides } from './i18n/index.ts';
import { VERSION } from './version.ts';

export type {
  LatchPopupMessage,
  LatchProvider,
  LatchSessionInfo,
  LatchUser,
  MeResponse,
  SessionEndReason,
  StepUpRequirement,
} from '../bff/contract.ts';
export { LatchError, type LatchWidgetErrorCode } from './client/bff.ts';
export type {
  LatchConfig,
  LatchEndReason,
  LatchErrorInfo,
  LatchLoginMode,
  LatchLoginOptions,
  LatchSessionState,
  LatchStatus,
  LatchStepUpOptions,
  LatchStepUpOutcome,
} from './client/session.ts';
export type {
  LatchEventDetail,
  LatchEventMap,
  LatchEventName,
  LatchExpiringDetail,
  LatchLoginDetail,
  LatchLogoutDetail,
  LatchStepUpDetail,
} from './events.ts';
export type { LatchStringOverrides, LatchStrings } from './i18n/index.ts';
export { LatchGateElement, LatchLoginElement, LatchUserElement };

export interface LatchOptions extends LatchConfig {
  /** String overrides by language: `{ en: { signIn: 'Log in' }, de: { signIn: 'Einloggen' } }`. */
  strings?: LatchStringOverrides;
}

/** The `latch` API. */
export interface Latch {
  readonly version: string;
  /** The current session. A live object: read it when you need it, copy it to keep it. */
  readonly session: Readonly<LatchSessionState>;
  /** Calls `fn` with a snapshot on every change; returns a function that stops it. */
  on(type: 'change', fn: (session: LatchSessionState) => void): () => void;
  /**
   * Signs in (redirect by default; `mode: 'popup'` opens a popup, falling back to a redirect);
   * `provider` names the provider (else the site's first).
   */
  login(options?: LatchLoginOptions): Promise<void>;
  /**
   * Signs in again with `acr_values` and `max_age` (in a popup, else a redirect back here), for what
   * needs more than the session has; resolves with the outcome (`latch-step-up` says it too).
   */
  stepUp(options: LatchStepUpOptions): Promise<LatchStepUpOutcome>;
  /** Signs out at the BFF, then goes to the authorization server's logout URL if it has one. */
  logout(): Promise<void>;
  /** The signed-in user's claims, or null. Rejects with a LatchError when the BFF cannot be asked. */
  me(): Promise<LatchUser | null>;
  /**
   * Calls the BFF's `/api/...` routes with credentials and the CSRF header. `path` may omit `/api`.
   * Answered 401 LATCH_STEP_UP_REQUIRED, it steps up (`stepUp()`) and calls again, once.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Sets the BFF URL, timings, providers' labels and icons, and string overrides. */
  configure(options: LatchOptions): void;
  /** Asks `/me` again now. */
  refresh(): Promise<void>;
}

const api: Latch = {
  version: VERSION,
  session: S.state,
  on: S.on,
  me: S.me,
  login: S.login,
  logout: S.logout,
  stepUp: S.stepUp,
  fetch: S.apiFetch,
  configure(options) {
    overrideStrings(options.strings);
    S.configure(options);
  },
  refresh: () => S.refresh(),
};

const registry = globalThis as { __latch?: Latch; latch?: Latch };

/** The page's one `latch`: a second copy of the bundle uses the first copy's, so the session stays one. */
export const latch: Latch = (registry.__latch ??= api);
if (latch.version != VERSION)
  console.warn(`latch ${VERSION}: this page runs latch ${latch.version} already, which stays in charge`);
// Also the global `latch`, for classic scripts (the IIFE build's namespace is `LatchWidget`).
registry.latch = latch;

define('latch-login', LatchLoginElement);
define('latch-gate', LatchGateElement);
define('latch-user', LatchUserElement);

declare global {
  interface HTMLElementTagNameMap {
    'latch-login': LatchLoginElement;
    'latch-gate': LatchGateElement;
    'latch-user': LatchUserElement;
  }
}
