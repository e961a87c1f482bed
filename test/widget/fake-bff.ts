/**
 * A fake BFF for component tests, at the fetch level: `window.fetch` answers
 * like the real BFF's `/me`, `/logout`, `/providers`, `/sessions`, `/events` (an
 * event stream the test writes to) and `/api/*` (see bff/contract.ts), and
 * records every call. Also helpers to mount elements and wait for the session.
 */
import type {
  ErrorBody,
  LatchProvider,
  LatchSessionInfo,
  LatchUser,
  MeResponse,
  SessionEndReason,
  StepUpErrorBody,
  StepUpRequirement,
} from '../../bff/contract.ts';
import { io, resetForTests, state, type LatchStatus } from '../../widget/client/session.ts';
import { SIGNED_OUT, SILENT_AT } from '../../widget/client/storage.ts';
import '../../widget/index.ts';

export const BFF_ORIGIN = 'https://auth.latch.test';
/**
 * The BFF's base URL, with a path of its own for each test page: test files run in parallel
 * pages of one origin, and the widget's BroadcastChannel is named after the BFF's URL, so
 * without it one file's sign-out would reach another file's page.
 */
export const BFF = `${BFF_ORIGIN}/bff-${Math.random().toString(36).slice(2, 10)}`;

export const ADA: LatchUser = {
  sub: 'user-1',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  email_verified: true,
  org_id: 'acme',
  roles: ['admin', 'editor'],
};

export interface Call {
  url: string;
  method: string;
  headers: Headers;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

/** An open `GET /events` stream: what the test sends down it. */
export interface EventStream {
  /** An event (`event:` and `data:` lines, then a blank line). */
  send(event: string, data: unknown): void;
  /** Raw text, as the server would write it (comments, `retry:`, half lines). */
  write(text: string): void;
  /** The server ends the stream. */
  close(): void;
  /** Whether the stream ended (the server closed it, or the page aborted it). */
  readonly closed: boolean;
}

export interface FakeBff {
  /** Every request to the BFF, in order. */
  calls: Call[];
  /** The signed-in user; null: `/me` answers 401. */
  user: LatchUser | null;
  expiresAt: number;
  /** `/me`'s `provider`, `acr`, `authTime` while signed in. */
  provider: string;
  acr: string | undefined;
  authTime: number | undefined;
  /** What `/me` answers 401 with when there is no user (LATCH_SESSION_EXPIRED: the session ended). */
  signedOutCode: 'LATCH_UNAUTHENTICATED' | 'LATCH_SESSION_EXPIRED';
  /** `GET /providers`' list, or the status it answers with an ErrorBody. */
  providers: LatchProvider[] | number;
  /** `GET /sessions`' list (the one with `current` is this browser's); DELETE removes from it. */
  sessions: LatchSessionInfo[];
  /** `GET /events`: `stream` (200, text/event-stream, kept in `streams`), or the status it answers with an ErrorBody. */
  events: 'stream' | number;
  /** Every `/events` stream opened, in order. */
  streams: EventStream[];
  /**
   * What `/api/*` needs beyond a session: while set and the session's `acr` is not one of
   * `need.acr`, 401 LATCH_STEP_UP_REQUIRED with `stepUp: need`.
   */
  need: StepUpRequirement | null;
  /** What `POST /logout` answers as `logoutUrl`. */
  logoutUrl: string | null;
  /**
   * `network`: fetch rejects (BFF down); `cors`: the BFF is up but refuses this page's origin, so
   * the browser hides every answer but a `no-cors` request's (opaque); a number: `/me` answers that
   * status with an ErrorBody.
   */
  fail: 'network' | 'cors' | number | null;
  /** While set, requests wait for this promise before answering. */
  hold: Promise<void> | null;
  callsTo(path: string): Call[];
}

const realFetch = window.fetch.bind(window);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const error = (status: number, code: ErrorBody['error']['code']) =>
  json(status, { error: { code, message: code } } satisfies ErrorBody);

/** A `text/event-stream` answer whose body the test writes to; aborting the request ends it. */
function eventStream(signal: AbortSignal | null | undefined): { res: Response; stream: EventStream } {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const encoder = new TextEncoder();
  const end = (e?: unknown) => {
    if (closed) return;
    closed = true;
    try {
      e ? out.error(e) : out.close();
    } catch {
      /* already errored by the reader's cancel */
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (out = c),
    cancel: () => void (closed = true),
  });
  signal?.addEventListener('abort', () => end(signal.reason));
  const stream: EventStream = {
    write: (text) => void (!closed && out.enqueue(encoder.encode(text))),
    send: (event, data) => stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    close: () => end(),
    get closed() {
      return closed;
    },
  };
  stream.write('retry: 5000\n\n');
  return { res: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }), stream };
}

/** Replaces window.fetch for the BFF's origin; `restore()` in afterEach. */
export function fakeBff(user: LatchUser | null = null): FakeBff {
  const bff: FakeBff = {
    calls: [],
    user,
    expiresAt: Date.now() + 3_600_000,
    logoutUrl: null,
    fail: null,
    hold: null,
    provider: 'default',
    acr: undefined,
    authTime: undefined,
    signedOutCode: 'LATCH_UNAUTHENTICATED',
    providers: [{ name: 'default', label: 'Example' }],
    sessions: [],
    events: 'stream',
    streams: [],
    need: null,
    callsTo: (path) => bff.calls.filter((c) => c.url.split('?')[0] == BFF + path),
  };
  window.fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith(BFF)) return realFetch(input, init);
    bff.calls.push({
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      credentials: init.credentials,
      body: init.body,
    });
    if (bff.hold) {
      // Like a real fetch, an abort (the widget's timeout) ends the wait.
      const signal = init.signal;
      await Promise.race([
        bff.hold,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
      ]);
    }
    if (bff.fail == 'network' || (bff.fail == 'cors' && init.mode != 'no-cors')) throw new TypeError('Failed to fetch');
    if (bff.fail == 'cors') return new Response(null, { status: 200 });
    const path = new URL(url).pathname.slice(new URL(BFF).pathname.length);
    const csrf = new Headers(init.headers).get('latch-csrf') == '1';
    if (path == '/me') {
      if (typeof bff.fail == 'number') return error(bff.fail, 'LATCH_UPSTREAM_UNAVAILABLE');
      const { user, expiresAt, provider, acr, authTime } = bff;
      return user
        ? json(200, { user, expiresAt, sameSite: false, provider, acr, authTime } satisfies MeResponse)
        : error(401, bff.signedOutCode);
    }
    if (path == '/logout') {
      if (init.method != 'POST' || !csrf) return error(403, 'LATCH_CSRF');
      bff.user = null;
      return json(200, { logoutUrl: bff.logoutUrl });
    }
    if (path == '/providers') {
      return typeof bff.providers == 'number' ? error(bff.providers, 'LATCH_NOT_FOUND') : json(200, { providers: bff.providers });
    }
    if (path == '/sessions') return bff.user ? json(200, { sessions: bff.sessions }) : error(401, 'LATCH_UNAUTHENTICATED');
    if (path.startsWith('/sessions/')) {
      if (init.method != 'DELETE' || !csrf) return error(403, 'LATCH_CSRF');
      const id = decodeURIComponent(path.slice('/sessions/'.length));
      const before = bff.sessions.length;
      bff.sessions = bff.sessions.filter((s) => s.id != id || s.current);
      return bff.sessions.length < before ? new Response(null, { status: 204 }) : error(404, 'LATCH_NOT_FOUND');
    }
    if (path == '/events') {
      if (typeof bff.events == 'number') return error(bff.events, 'LATCH_NOT_FOUND');
      if (!bff.user) return error(401, 'LATCH_UNAUTHENTICATED');
      const { res, stream } = eventStream(init.signal);
      bff.streams.push(stream);
      return res;
    }
    if (path.startsWith('/api/')) {
      if (!bff.user) return error(401, 'LATCH_UNAUTHENTICATED');
      if (bff.need && !bff.need.acr?.includes(bff.acr ?? ''))
        return json(401, { error: { code: 'LATCH_STEP_UP_REQUIRED', message: 'step up' }, stepUp: bff.need } satisfies StepUpErrorBody);
      return json(200, { path });
    }
    return error(404, 'LATCH_NOT_FOUND');
  };
  return bff;
}

/** Navigations the widget asked for (instead of leaving the test page). */
export const navigations: string[] = [];

/** A fresh page's session, the real fetch back, navigation recorded, the body emptied. */
export function reset(): void {
  window.fetch = realFetch;
  resetForTests();
  // What the widget keeps in storage, as in a fresh browser profile.
  localStorage.removeItem(SIGNED_OUT);
  sessionStorage.removeItem(SILENT_AT);
  navigations.length = 0;
  io.go = (url) => void navigations.push(url);
  document.body.replaceChildren();
  document.documentElement.lang = 'en';
}

/** Adds HTML to the body and waits until every Latch element in it has rendered. */
export async function mount<T extends Element = HTMLElement>(markup: string): Promise<T> {
  const box = document.createElement('div');
  box.innerHTML = markup;
  document.body.append(box);
  await settle();
  return box.firstElementChild as T;
}

/** Waits until the session leaves `loading` (or reaches `status`), then for every element to render. */
export async function settle(status?: LatchStatus): Promise<void> {
  await until(() => (status ? state.status == status : state.status != 'loading'), `session ${status ?? 'settled'}`);
  await rendered();
}

/** Waits for the pending renders of every Latch element on the page. */
export async function rendered(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await Promise.all(
      [...document.querySelectorAll('latch-login, latch-gate, latch-user')].map(
        (el) => (el as unknown as { updateComplete: Promise<unknown> }).updateComplete,
      ),
    );
    await new Promise((r) => setTimeout(r));
  }
}

/** Polls `check` every 10 ms until it holds, failing after `ms`. */
export async function until(check: () => unknown, what = 'condition', ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The element focused in the page, looking into shadow roots. */
export function focused(): Element | null {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

/** The shadow root's element matching `selector`, or null. */
export const $ = <E extends Element = HTMLElement>(host: Element, selector: string): E | null =>
  host.shadowRoot!.querySelector<E>(selector);

/** Waits until `host`'s shadow root has `selector` (a part drawn by a chunk, once it has loaded). */
export async function shown<E extends Element = HTMLElement>(host: Element, selector: string, ms?: number): Promise<E> {
  await until(() => $(host, selector), selector, ms);
  return $<E>(host, selector)!;
}

/** The open `/events` stream the page reads now (the last one opened that is not closed). */
export function openStream(bff: FakeBff): EventStream | undefined {
  return bff.streams.filter((s) => !s.closed).at(-1);
}

/** Ends the session as the BFF's `/events` says it: `session-ended` with `reason`, then the stream closes. */
export function endSession(bff: FakeBff, reason: SessionEndReason): void {
  const stream = openStream(bff);
  if (!stream) throw new Error('no open /events stream');
  bff.user = null;
  stream.send('session-ended', { reason });
  stream.close();
}

/** Collects the events of `names` that reach the document. */
export function record(...names: string[]): CustomEvent[] {
  const seen: CustomEvent[] = [];
  for (const n of names) document.addEventListener(n, (e) => seen.push(e as CustomEvent));
  return seen;
}
