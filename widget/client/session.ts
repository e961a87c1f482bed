/**
 * One shared session per page. However many Latch elements a page holds, `/me`
 * is fetched once; every element and `latch.on('change')` listener reads the
 * same state. Also here: sign-in (redirect or popup), sign-out, and the calls to
 * the BFF's API routes. What the first answer does not need comes in chunks
 * (../lazy.ts): the other tabs and the re-checks (../chunks/start.ts, from the
 * start), the `/events` connection and the timers ahead of the session's end
 * (../chunks/events.ts, once signed in), the silent sign-in (../chunks/silent.ts,
 * with `silent="true"`), and step-up (../chunks/stepup.ts, when asked).
 */
import type { LatchUser, MeResponse, SessionEndReason } from '../../bff/contract.ts';
import { html } from 'lit';
import { emit, type LatchStepUpDetail } from '../events.ts';
import { en } from '../i18n/en.ts';
import { overrides } from '../i18n/index.ts';
import { load } from '../lazy.ts';
import type { LatchPort } from '../port.ts';
import type { Diagnose } from '../chunks/diagnose.ts';
import type { Handoff } from '../chunks/handoff.ts';
import type { Silent } from '../chunks/silent.ts';
import type { StepUp } from '../chunks/stepup.ts';
import type { Start } from '../chunks/start.ts';
import type { logout as signOut } from './logout.ts';
import { CSRF_HEADER, LatchError, request, type LatchWidgetErrorCode } from './bff.ts';

/**
 * The session's explicit states. `loading` only until the first answer from
 * `/me` (later re-checks keep the known state until they have an answer).
 */
export type LatchStatus = 'loading' | 'signed-out' | 'signing-in' | 'signed-in' | 'error';

/** Why a session ended: `/events`' `session-ended` reasons (`expired` also for `/me`'s LATCH_SESSION_EXPIRED). */
export type LatchEndReason = SessionEndReason;

export interface LatchErrorInfo {
  code: LatchWidgetErrorCode;
  /** `callback`: a failed sign-in (`latch_error`, popup); `bff`: a failed call to the BFF. */
  source: 'callback' | 'bff';
}

export interface LatchSessionState {
  status: LatchStatus;
  /** Claims of the signed-in user; null otherwise. */
  user: LatchUser | null;
  /** When the session ends, epoch milliseconds. */
  expiresAt: number | null;
  /** Set in the `error` state; a callback error stays until the next sign-in. */
  error: LatchErrorInfo | null;
  /** The provider the session signed in with (`/me`'s `provider`); null when signed out or not said. */
  provider: string | null;
  /** The authentication context class the provider reported (`/me`'s `acr`); null when none. */
  acr: string | null;
  /** When the user last authenticated at the provider (`/me`'s `authTime`), epoch seconds; null when not said. */
  authTime: number | null;
  /** Signed out: why the session ended, when the widget knows (`/events`, or an expired session); else null. */
  reason: LatchEndReason | null;
}

/**
 * How to sign in. `password` is `<latch-login mode="password">`'s in-widget form; `latch.login()`
 * (and Retry after a callback error) has no form to use, so for it `password` is a redirect.
 * `handoff`: a popup, then the partitioned-cookie hand-off, for a BFF on another site that cannot
 * have a host name or path on the page's site (docs/embedding.md; the BFF needs LATCH_HANDOFF=true).
 * Its code loads on demand, from `latch-handoff.js` beside the bundle.
 */
export type LatchLoginMode = 'redirect' | 'popup' | 'password' | 'handoff';

export interface LatchLoginOptions {
  mode?: LatchLoginMode;
  /** Where the BFF sends the browser back to. Default: this page. */
  returnTo?: string;
  loginHint?: string;
  organization?: string;
  connection?: string;
  prompt?: 'login' | 'create' | 'select_account' | 'none';
  /** The provider to sign in with (`/login?provider=`), of those `GET /providers` lists. Default: the site's first. */
  provider?: string;
}

/** `latch.stepUp()`'s requirements: any of the `acr` values, and at most `maxAge` seconds since the user authenticated. */
export interface LatchStepUpOptions {
  acr?: string | string[];
  maxAge?: number;
}

/** How a step-up ended: `done` (signed in again as asked), `failed` (the provider or the BFF refused), `cancelled` (the popup was closed). */
export type LatchStepUpOutcome = Exclude<LatchStepUpDetail['outcome'], 'started'>;

export interface LatchConfig {
  /** The BFF's base URL, e.g. `https://auth.example.com`. Default: the first element's `bff` attribute. */
  bff?: string;
  /** Send `latch-expiring` this many ms before the session ends. Default 60 000. */
  expiringBefore?: number;
  /** Re-check `/me` when the tab becomes visible after being hidden this long, in ms. Default 30 000. */
  recheckAfter?: number;
  /** Timeout for calls to the BFF, in ms. Default 10 000. */
  timeout?: number;
  /** Without a live `/events` stream (e.g. the BFF on Lambda), re-check `/me` this often while signed in, in ms. Default 60 000. */
  eventsFallbackInterval?: number;
  /** The providers' labels and icons (https or data: URLs), by name, over `GET /providers`' own. */
  providers?: Record<string, { label?: string; icon?: string }>;
}

const defaults: LatchPort['config'] = {
  bff: '',
  expiringBefore: 60_000,
  recheckAfter: 30_000,
  timeout: 10_000,
};

export const config: LatchPort['config'] = { ...defaults };

/** The state of a page that has not heard from `/me` yet. */
const initial = (): LatchSessionState => ({
  status: 'loading',
  user: null,
  expiresAt: null,
  error: null,
  provider: null,
  acr: null,
  authTime: null,
  reason: null,
});

/** The live session. Its identity never changes; events carry snapshots of it. */
export const state: LatchSessionState = initial();

/** Seams that component tests replace: navigation and opening the popup. */
export const io = {
  go: (url: string): void => location.assign(url),
  open: (url: string): Window | null => open(url, 'latch-login', 'popup,width=480,height=640'),
};

interface Subscriber extends Element {
  requestUpdate(): void;
}

const els = new Set<Subscriber>();
const listeners = new Set<(s: LatchSessionState) => void>();
let started = false;
let inflight: Promise<void> | undefined;
let initiator: Element | undefined;
/** The other tabs (../chunks/start.ts): tells them of a change made here. */
let tabs: Promise<(me: MeResponse | null, reason?: LatchEndReason | null) => void> | undefined;
/** The callback's proof of a sign-in (`latch_proof`, or the popup's `proof`), sent once with the next `/me`. */
let proof: string | null | undefined;

const snapshot = (): LatchSessionState => ({ ...state });

/** A code chunk's function, as it takes the port first. */
type Chunk = (port: LatchPort, ...args: never[]) => unknown;

/**
 * Runs chunk `name`'s function (../lazy.ts) with the port and `args`; `otherwise` when the chunk
 * cannot be loaded.
 */
const run = <F extends Chunk>(
  name: string,
  otherwise: () => unknown,
  ...args: F extends (port: LatchPort, ...args: infer A) => unknown ? A : never
): Promise<unknown> => load<(port: LatchPort, ...args: unknown[]) => unknown>(name).then((f) => f(port, ...args), otherwise);

/** Re-renders every element. */
const update = (): void => els.forEach((el) => el.requestUpdate());

/** Where events go: the element the user acted on, else the first element, else the document. */
const target = (): EventTarget =>
  (initiator?.isConnected && initiator) || els.values().next().value || document;

/** Resolves once the session has left `loading` for the first time. */
let settle!: () => void;
let settled = new Promise<void>((done) => (settle = done));

function set(next: Partial<LatchSessionState>, fresh?: boolean): void {
  const prev = snapshot();
  Object.assign(state, next);
  if (state.status != 'loading') settle();
  if (JSON.stringify(prev) == JSON.stringify(state)) return;
  const t = target();
  const now = snapshot();
  if (state.user && !prev.user && (fresh || prev.status != 'loading'))
    emit(t, 'login', { user: state.user });
  if (prev.user && state.status == 'signed-out') emit(t, 'logout', { user: prev.user });
  if (state.error && state.error != prev.error) emit(t, 'error', state.error);
  emit(t, 'session-change', now);
  listeners.forEach((fn) => fn(now));
  update();
}

/**
 * Apply a `/me` answer (null: signed out, for `reason` if known). `fresh`: a sign-in or sign-out
 * just ended here, so tell the other tabs (and a sign-in sends `latch-login`). `from`: the element
 * the user acted on, where the events go.
 */
function apply(me: MeResponse | null, fresh?: boolean, reason?: LatchEndReason | null, from?: Element): void {
  initiator = from ?? initiator;
  const error = state.error?.source == 'callback' && !me ? state.error : null;
  const { user = null, expiresAt = null, provider = null, acr = null, authTime = null } = me || {};
  set(
    {
      status: me ? 'signed-in' : error ? 'error' : 'signed-out',
      user,
      expiresAt,
      provider,
      acr,
      authTime,
      error,
      // A reason stays until the next sign-in (a later re-check that finds no session knows none).
      reason: me ? null : reason || state.reason,
    },
    fresh,
  );
  if (fresh) void tabs?.then((tell) => tell(me, reason));
}

/**
 * `/me` found no session (`expired`: LATCH_SESSION_EXPIRED, its idle or absolute end). With an
 * element that has `silent="true"`, ../chunks/silent.ts may first try to sign in without a click
 * (the session keeps its state meanwhile: `loading` on a page's first check, so that nothing
 * flashes); it ends in `apply()` or `refresh()`.
 */
function signedOut(reason: LatchEndReason | null, fresh?: boolean): unknown {
  const el = !fresh && [...els].find((el) => el.getAttribute('silent') == 'true');
  return el
    ? run<Silent>('silent', () => apply(null, fresh, reason), reason, el)
    : apply(null, fresh, reason);
}

/** A failed sign-in (`callback`): the error state, whose Retry signs in again; or a failed call to the BFF. */
const failed = (code: string, source: LatchErrorInfo['source'] = 'callback'): void =>
  set({ status: 'error', error: { code, source } });

/**
 * A failed call to the BFF: the error state, whose Retry asks `/me`. Two failures are the
 * deployment's, which only its owner can fix: a call that got no answer at all (no status: the BFF
 * down, or refusing this page's origin, which the browser hides) and
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED (signed in, but the browser keeps the BFF's cookie from this
 * page). ../chunks/diagnose.ts (in the build, dist/latch-diagnose.js beside the bundle, loaded now)
 * says which, with the fix in the console, and brings their English words; failing to load it
 * leaves the code as it is.
 */
const fail = (e: LatchError): void | Promise<void> =>
  e.status && e.code != 'LATCH_THIRD_PARTY_COOKIES_BLOCKED'
    ? failed(e.code, 'bff')
    : (run<Diagnose>('diagnose', () => failed(e.code, 'bff'), e) as Promise<void>);

/**
 * Fetches `/me` (once at a time) and applies the answer. `fresh`: a sign-in
 * just ended here, so send `latch-login` and tell the other tabs; `signInProof`: its proof.
 *
 * Right after a sign-in it carries the callback's proof: if the answer is
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED (signed in, but the browser kept the BFF's
 * cookie from this page), that is an error, said once in the console with the
 * BFF's words (which name the fix), not a return to "Sign in".
 */
export function refresh(fresh?: boolean, signInProof?: string): Promise<void> {
  proof ||= signInProof;
  return (inflight ??= request<MeResponse>(config.bff + '/me' + (proof ? '?proof=' + proof : ''), {}, config.timeout)
    .then(
      (me) => apply(me, fresh),
      (e: LatchError) =>
        e.status == 401 && e.code != 'LATCH_THIRD_PARTY_COOKIES_BLOCKED'
          ? void signedOut(e.code == 'LATCH_SESSION_EXPIRED' ? 'expired' : null, fresh)
          : fail(e),
    )
    .finally(() => (inflight = proof = undefined)));
}

/**
 * Starts the session once a BFF is known: reads `latch_error` and `latch_proof`, loads the tabs'
 * chunk, fetches `/me`.
 */
export function start(): void {
  if (started) return;
  if (!config.bff) {
    // A later element or a `latch.configure()` further down the page may still name it.
    if (document.readyState == 'loading') addEventListener('DOMContentLoaded', start);
    else if (state.status == 'loading') failed('LATCH_NO_BFF', 'bff');
    return;
  }
  started = true;
  const url = new URL(location.href);
  const q = url.searchParams;
  const code = q.get('latch_error');
  proof = q.get('latch_proof');
  if (code || proof) {
    q.delete('latch_error');
    q.delete('latch_proof');
    history.replaceState(history.state, '', url);
    // A sign-in with prompt=none (the silent one's top-level variant) that found no session to use
    // at the provider (login_, interaction_, consent_, account_selection_required) is simply
    // signed out: no error is shown.
    if (code && !/_required$/.test(code)) set({ error: { code, source: 'callback' } });
  }
  tabs = run<Start>('start', () => () => {}) as Promise<ReturnType<Start>>;
  if (state.status == 'error') state.status = 'loading';
  // Back from a redirect sign-in, which hands back its proof (`latch_proof`): fresh, so `latch-login`.
  void refresh(!!proof);
}

/** Elements register here; the first one with a `bff` attribute names the BFF. */
export function attach(el: Subscriber): void {
  els.add(el);
  config.bff ||= (el.getAttribute('bff') ?? '').replace(/\/+$/, '');
  queueMicrotask(start);
}

export function detach(el: Subscriber): void {
  els.delete(el);
}

export function configure(options: LatchConfig): void {
  const bff = options.bff?.replace(/\/+$/, '');
  Object.assign(config, options, bff && { bff });
  update();
  if (bff) started ? void refresh() : start();
}

export function on(type: 'change', fn: (s: LatchSessionState) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The signed-in user, or null; waits for the first answer from `/me`. Rejects in the `error` state. */
export async function me(): Promise<LatchUser | null> {
  start();
  await settled;
  if (state.status == 'error' && state.error?.source == 'bff') throw new LatchError(state.error.code);
  return state.user;
}

/**
 * Signs in. `popup` and `handoff` open their window here, in the click (a popup opened later may be
 * blocked), and their chunk (../chunks/popup.ts, ../chunks/handoff.ts) does the rest; a blocked
 * popup, unknown modes and `password` (a form, not a navigation) fall back to a redirect.
 */
export async function login(options: LatchLoginOptions = {}, from?: Element): Promise<void> {
  initiator = from;
  start();
  if (!config.bff) return;
  // proof=1: the callback hands back a proof of the sign-in, to tell blocked cookies from signed out.
  const q = new URLSearchParams({ returnTo: options.returnTo || location.href, proof: '1' });
  for (const [k, v] of [
    ['prompt', options.prompt],
    ['login_hint', options.loginHint],
    ['organization_id', options.organization],
    ['connection_id', options.connection],
    ['provider', options.provider],
  ] as const)
    if (v) q.set(k, v);
  set({ status: 'signing-in', error: null });
  const url = config.bff + '/login?' + q;
  const { mode } = options;
  if (mode == 'popup' || mode == 'handoff') {
    const win = io.open(mode == 'popup' ? url + '&mode=popup' : '');
    // The hand-off has no redirect to fall back to (its chunk says LATCH_POPUP_BLOCKED).
    if (win || mode == 'handoff')
      return run<Handoff>(mode, () => failed('LATCH_UNREACHABLE'), win, url) as Promise<void>;
  }
  io.go(url);
}

/**
 * What the lazily loaded chunks get of the bundle (../port.ts): the same object for each. Lit's
 * `html` is imported here only to be handed over (the session itself renders nothing).
 */
export const port: LatchPort = {
  html,
  config,
  state,
  en,
  overrides,
  io,
  page: {},
  target,
  load,
  set,
  apply,
  update,
  on,
  failed,
  fail,
  refresh,
  login,
};

/** `latch.logout()`: ../client/logout.ts, as a chunk (the menu has its own copy). */
export const logout = (): Promise<void> =>
  run<typeof signOut>('logout', () => failed('LATCH_UNREACHABLE', 'bff')) as Promise<void>;

/**
 * `latch.stepUp()`: a sign-in with `acr_values` and `max_age` (../chunks/stepup.ts); its outcome,
 * `failed` if its chunk cannot be loaded.
 */
export const stepUp = (options: LatchStepUpOptions): Promise<LatchStepUpOutcome> =>
  run<StepUp>('stepup', () => 'failed', options) as Promise<LatchStepUpOutcome>;

/**
 * Calls the BFF's API routes (`/api/...`) with credentials and the CSRF header. A 401 goes to the
 * step-up chunk, which steps up and calls again once for LATCH_STEP_UP_REQUIRED, and for any other
 * 401 makes the session check `/me` again (as this does if the chunk cannot be loaded).
 */
export async function apiFetch(path: string, init: RequestInit = {}, again?: boolean): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(CSRF_HEADER, '1');
  const res = await fetch(config.bff + path.replace(/^\/?(api\/)?/, '/api/'), {
    ...init,
    headers,
    credentials: 'include',
  });
  return res.status == 401 && !again
    ? (run<StepUp>('stepup', () => (void refresh(), res), res, () => apiFetch(path, init, true), init) as Promise<Response>)
    : res;
}

/**
 * For component tests only (the bundle leaves it out): back to the state of a
 * freshly loaded page, without reloading it.
 */
export function resetForTests(): void {
  const { page } = port;
  page.stops?.forEach((stop) => stop());
  // Emptied in place: modules hold it (as a page load would give them an empty one).
  for (const key in page) delete page[key];
  page.stops = [];
  inflight = initiator = tabs = undefined;
  started = false;
  listeners.clear();
  Object.assign(config, defaults, { eventsFallbackInterval: undefined, providers: undefined });
  Object.assign(state, initial());
  settled = new Promise<void>((done) => (settle = done));
}
