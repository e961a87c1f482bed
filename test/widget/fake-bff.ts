/**
 * A fake BFF for component tests, at the fetch level: `window.fetch` answers
 * like the real BFF's `/me`, `/logout` and `/api/*` (see bff/contract.ts), and
 * records every call. Also helpers to mount elements and wait for the session.
 */
import type { ErrorBody, LatchUser, MeResponse } from '../../bff/contract.ts';
import { io, resetForTests, state, type LatchStatus } from '../../widget/client/session.ts';
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

export interface FakeBff {
  /** Every request to the BFF, in order. */
  calls: Call[];
  /** The signed-in user; null: `/me` answers 401. */
  user: LatchUser | null;
  expiresAt: number;
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

/** Replaces window.fetch for the BFF's origin; `restore()` in afterEach. */
export function fakeBff(user: LatchUser | null = null): FakeBff {
  const bff: FakeBff = {
    calls: [],
    user,
    expiresAt: Date.now() + 3_600_000,
    logoutUrl: null,
    fail: null,
    hold: null,
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
    if (path == '/me') {
      if (typeof bff.fail == 'number') return error(bff.fail, 'LATCH_UPSTREAM_UNAVAILABLE');
      return bff.user
        ? json(200, { user: bff.user, expiresAt: bff.expiresAt, sameSite: false } satisfies MeResponse)
        : error(401, 'LATCH_UNAUTHENTICATED');
    }
    if (path == '/logout') {
      if (init.method != 'POST' || new Headers(init.headers).get('latch-csrf') != '1') return error(403, 'LATCH_CSRF');
      bff.user = null;
      return json(200, { logoutUrl: bff.logoutUrl });
    }
    if (path.startsWith('/api/')) return bff.user ? json(200, { path }) : error(401, 'LATCH_UNAUTHENTICATED');
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

/** The shadow root's element matching `selector`, or null. */
export const $ = <E extends Element = HTMLElement>(host: Element, selector: string): E | null =>
  host.shadowRoot!.querySelector<E>(selector);

/** Collects the events of `names` that reach the document. */
export function record(...names: string[]): CustomEvent[] {
  const seen: CustomEvent[] = [];
  for (const n of names) document.addEventListener(n, (e) => seen.push(e as CustomEvent));
  return seen;
}
