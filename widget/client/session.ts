/**
 * One shared session per page. However many Latch elements a page holds, `/me`
 * is fetched once; every element and `latch.on('change')` listener reads the
 * same state. Also here: sign-in (redirect or popup), sign-out, the
 * BroadcastChannel that keeps the microsite's tabs in step, the re-check when a
 * tab becomes visible again, and the timers ahead of the session's end.
 */
import type {
  LatchUser,
  LogoutResponse,
  MeResponse,
} from '../../bff/contract.ts';
import { html } from 'lit';
import { emit } from '../events.ts';
import { en } from '../i18n/en.ts';
import { overrides } from '../i18n/index.ts';
import type { LatchPort } from '../port.ts';
import { CSRF_HEADER, LatchError, request, type LatchWidgetErrorCode } from './bff.ts';
import { wait } from './popup.ts';

/**
 * The session's explicit states. `loading` only until the first answer from
 * `/me` (later re-checks keep the known state until they have an answer).
 */
export type LatchStatus = 'loading' | 'signed-out' | 'signing-in' | 'signed-in' | 'error';

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
}

export interface LatchConfig {
  /** The BFF's base URL, e.g. `https://auth.example.com`. Default: the first element's `bff` attribute. */
  bff?: string;
  /** Send `latch-expiring` this many ms before the session ends. Default 60 000. */
  expiringBefore?: number;
  /** Re-check `/me` when the tab becomes visible after being hidden this long, in ms. Default 30 000. */
  recheckAfter?: number;
  /** Timeout for calls to the BFF, in ms. Default 10 000. */
  timeout?: number;
}

const defaults: Required<LatchConfig> = {
  bff: '',
  expiringBefore: 60_000,
  recheckAfter: 30_000,
  timeout: 10_000,
};

export const config: Required<LatchConfig> = { ...defaults };

/** The live session. Its identity never changes; events carry snapshots of it. */
export const state: LatchSessionState = {
  status: 'loading',
  user: null,
  expiresAt: null,
  error: null,
};

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
const PENDING = 'latch:pending';
let started = false;
let inflight: Promise<void> | undefined;
let channel: BroadcastChannel | undefined;
let initiator: Element | undefined;
let timers: ReturnType<typeof setTimeout>[] = [];
let hiddenAt = 0;
/** The callback's proof of a sign-in (`latch_proof`, or the popup's `proof`), sent once with the next `/me`. */
let proof: string | null | undefined;

const snapshot = (): LatchSessionState => ({ ...state });

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
  schedule();
}

/** Timers ahead of the session's end: `latch-expiring`, then a re-check. */
function schedule(): void {
  timers.forEach(clearTimeout);
  const end = state.expiresAt;
  if (state.user && end) {
    // setTimeout takes a negative delay as 0, and overflows above 2^31 - 1.
    const wait = (at: number) => Math.min(at - Date.now(), 2 ** 31 - 1);
    timers = [
      setTimeout(() => emit(target(), 'expiring', { expiresAt: end }), wait(end - config.expiringBefore)),
      setTimeout(refresh, wait(end + 1000)),
    ];
  }
}

/**
 * Apply a `/me` answer (null: signed out). `fresh`: a sign-in or sign-out just ended here, so tell
 * the other tabs (and a sign-in sends `latch-login`).
 */
function apply(me: MeResponse | null, fresh?: boolean): void {
  const error = state.error?.source == 'callback' && !me ? state.error : null;
  set(
    {
      status: me ? 'signed-in' : error ? 'error' : 'signed-out',
      user: me ? me.user : null,
      expiresAt: me ? me.expiresAt : null,
      error,
    },
    fresh,
  );
  if (fresh) channel?.postMessage({ me });
}

/** A failed sign-in (`callback`): the error state, whose Retry signs in again; or a failed call to the BFF. */
const failed = (code: string, source: LatchErrorInfo['source'] = 'callback'): void =>
  set({ status: 'error', error: { code, source } });

/**
 * A failed call to the BFF: the error state, whose Retry asks `/me`. Two failures are the
 * deployment's, which only its owner can fix: a call that got no answer at all (no status: the BFF
 * down, or refusing this page's origin, which the browser hides) and
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED (signed in, but the browser keeps the BFF's cookie from this
 * page). ./diagnose.ts (in the build, dist/latch-diagnose.js beside the bundle, loaded now) says
 * which, with the fix in the console, and brings their English words; failing to load it leaves
 * the code as it is.
 */
const fail = (e: LatchError): void | Promise<void> =>
  e.status && e.code != 'LATCH_THIRD_PARTY_COOKIES_BLOCKED'
    ? failed(e.code, 'bff')
    : import(/* @vite-ignore */ './diagnose.ts').then(
        (m) => m.default(port, e),
        () => failed(e.code, 'bff'),
      );

/**
 * Fetches `/me` (once at a time) and applies the answer. `fresh`: a sign-in
 * just ended here, so send `latch-login` and tell the other tabs.
 *
 * Right after a sign-in it carries the callback's proof: if the answer is
 * LATCH_THIRD_PARTY_COOKIES_BLOCKED (signed in, but the browser kept the BFF's
 * cookie from this page), that is an error, said once in the console with the
 * BFF's words (which name the fix), not a return to "Sign in".
 */
export function refresh(fresh?: boolean): Promise<void> {
  try {
    // Back from a redirect sign-in (the flag is set just before leaving): fresh too. Read once.
    const pending = sessionStorage.getItem(PENDING);
    sessionStorage.removeItem(PENDING);
    fresh ||= !!pending;
  } catch {
    /* storage blocked: no flag */
  }
  return (inflight ??= request<MeResponse>(config.bff + '/me' + (proof ? '?proof=' + proof : ''), {}, config.timeout)
    .then(
      (me) => apply(me, fresh),
      (e: LatchError) => (e.status == 401 && e.code != 'LATCH_THIRD_PARTY_COOKIES_BLOCKED' ? apply(null) : fail(e)),
    )
    .finally(() => (inflight = proof = undefined)));
}

function onVisibility(): void {
  if (document.visibilityState == 'hidden') hiddenAt = Date.now();
  else if (hiddenAt && Date.now() - hiddenAt >= config.recheckAfter) void refresh();
}

/** Back from the authorization server through the back/forward cache: not signing in any more. */
function onPageShow(e: PageTransitionEvent): void {
  if (e.persisted) void refresh();
}

/** Starts the session once a BFF is known: reads `latch_error` and `latch_proof`, listens, fetches `/me`. */
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
    if (code) set({ error: { code, source: 'callback' } });
  }
  channel = new BroadcastChannel('latch:' + config.bff);
  channel.onmessage = (e: MessageEvent<{ me: MeResponse | null }>) => apply(e.data.me);
  document.addEventListener('visibilitychange', onVisibility);
  addEventListener('pageshow', onPageShow);
  if (state.status == 'error') state.status = 'loading';
  void refresh();
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

/** Signs in. Unknown modes, and `password` (a form, not a navigation), fall back to a redirect. */
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
  ] as const)
    if (v) q.set(k, v);
  set({ status: 'signing-in', error: null });
  return (modes[options.mode!] ?? redirect)(config.bff + '/login?' + q);
}

function redirect(url: string): void {
  try {
    sessionStorage.setItem(PENDING, '1');
  } catch {
    /* storage blocked: no latch-login event on return, nothing else lost */
  }
  io.go(url);
}

/** Popup sign-in. */
async function popup(url: string): Promise<void> {
  const win = io.open(url + '&mode=popup');
  if (!win) return redirect(url);
  const msg = await wait(win, config.bff);
  if (msg && !msg.ok) return failed(msg.error || 'server_error');
  // Signed in, or the popup was closed: ask /me either way (with the proof, if any).
  proof = msg?.proof;
  return refresh(true);
}

/**
 * The partitioned-cookie hand-off (docs/embedding.md). The popup opens here, in
 * the click (a popup opened later may be blocked); ./handoff.ts — in the build,
 * dist/latch-handoff.js beside the bundle, loaded now — does the rest.
 */
function handoff(url: string): Promise<void> {
  const win = io.open('');
  return import(/* @vite-ignore */ './handoff.ts').then(
    (m) => m.default(port, win, url),
    () => failed('LATCH_UNREACHABLE'),
  );
}

/** Sign-in strategies by mode (`password` has none: its form calls `port.signedIn()`). */
const modes: Partial<Record<LatchLoginMode, (url: string) => void | Promise<void>>> = {
  redirect,
  popup,
  handoff,
};

/**
 * A sign-in that ended on this page with the BFF's answer, like `/me`'s (the password form, the
 * hand-off): signed in here, `latch-login` from `from` (else from the element that started it), and
 * the other tabs told.
 */
function signedIn(me: MeResponse, from?: Element): void {
  initiator = from ?? initiator;
  apply(me, true);
}

/** Signs out at the BFF, tells the other tabs, then goes to the server's logout URL if it has one. */
export async function logout(from?: Element): Promise<void> {
  initiator = from;
  try {
    const { logoutUrl } = await request<LogoutResponse>(
      config.bff + '/logout',
      { method: 'POST', headers: { [CSRF_HEADER]: '1' } },
      config.timeout,
    );
    state.error = null;
    apply(null, true);
    if (logoutUrl) io.go(logoutUrl);
  } catch (e) {
    // 401: there was no session left to end.
    (e as LatchError).status == 401 ? apply(null, true) : await fail(e as LatchError);
  }
}

/**
 * What the lazily loaded chunks get of the bundle (../port.ts): the same object for each. Lit's
 * `html` is imported here only to be handed over (the session itself renders nothing).
 */
export const port: LatchPort = { html, config, en, overrides, failed, fail, signedIn, refresh };

/** Calls the BFF's API routes (`/api/...`) with credentials and the CSRF header. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(CSRF_HEADER, '1');
  const res = await fetch(config.bff + path.replace(/^\/?(api\/)?/, '/api/'), {
    ...init,
    headers,
    credentials: 'include',
  });
  if (res.status == 401) void refresh();
  return res;
}

/** Retry from the error state: a failed sign-in starts a new one; a failed call asks `/me` again. */
export function retry(options: LatchLoginOptions, from: Element): Promise<void> {
  if (state.error?.source == 'callback') return login(options, from);
  set({ status: 'loading', error: null });
  return refresh();
}

/**
 * For component tests only (the bundle leaves it out): back to the state of a
 * freshly loaded page, without reloading it.
 */
export function resetForTests(): void {
  channel?.close();
  timers.forEach(clearTimeout);
  channel = inflight = initiator = undefined;
  started = false;
  hiddenAt = 0;
  listeners.clear();
  Object.assign(config, defaults);
  Object.assign(state, { status: 'loading', user: null, expiresAt: null, error: null });
  settled = new Promise<void>((done) => (settle = done));
}
