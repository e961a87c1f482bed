/**
 * A cookie-jar HTTP client for integration tests, and the dev provider's login and logout walks.
 *
 * Cookies behave as in a browser that talks to 127.0.0.1: one jar per client, cookies are per host (not per
 * port, so a BFF and the provider on 127.0.0.1 share the host's cookies exactly as Chromium would), Path and
 * Secure are honoured, `__Host-`/`__Secure-` prefixes are enforced silently. tough-cookie treats
 * http://127.0.0.1 and http://localhost as potentially trustworthy, so Secure cookies work there; for other
 * http origins pass `cookieUrl` (e.g. the same URL with https:) to store and send cookies as for a secure
 * origin. SameSite is not enforced (no cross-site context is modelled).
 */
import { CookieJar } from 'tough-cookie';

export interface HttpResult {
  /** The URL requested. */
  url: string;
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
  /** The Location header resolved against the request URL (absolute), or null. */
  location: string | null;
  /** Raw Set-Cookie header values of this response. */
  setCookies: string[];
}

export type HttpInit = RequestInit & { cookieUrl?: string };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

export class HttpClient {
  jar: CookieJar;
  readonly #defaultHeaders: Record<string, string>;
  readonly #fetch: (url: string, init: RequestInit) => Promise<Response>;

  /** `fetch`: how requests are sent (the global fetch; or an app's in memory, helpers/in-memory.ts). */
  constructor(opts?: { defaultHeaders?: Record<string, string>; fetch?: (url: string, init: RequestInit) => Promise<Response> }) {
    this.jar = new CookieJar();
    this.#defaultHeaders = { ...opts?.defaultHeaders };
    this.#fetch = opts?.fetch ?? fetch;
  }

  /** One request, never following redirects; stores Set-Cookie in the jar. */
  async request(url: string, init?: HttpInit): Promise<HttpResult> {
    const { cookieUrl, ...rest } = init ?? {};
    const jarUrl = cookieUrl ?? url;
    const headers = new Headers(this.#defaultHeaders);
    for (const [k, v] of new Headers(rest.headers)) headers.set(k, v);
    const fromJar = await this.jar.getCookieString(jarUrl);
    if (fromJar) {
      const explicit = headers.get('cookie');
      headers.set('cookie', explicit ? `${fromJar}; ${explicit}` : fromJar);
    }

    const response = await this.#fetch(url, { ...rest, headers, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    for (const sc of setCookies) {
      await this.jar.setCookie(sc, jarUrl, { ignoreError: true });
    }
    const text = await response.text();
    const rawLocation = response.headers.get('location');
    return {
      url,
      status: response.status,
      headers: response.headers,
      text,
      json<T = unknown>(): T {
        return JSON.parse(text) as T;
      },
      location: rawLocation === null ? null : new URL(rawLocation, url).href,
      setCookies,
    };
  }

  /**
   * Follows redirects (max 20) while `until(next)` returns false. `until` is asked about each redirect
   * target before it is requested; when it answers true that URL is not requested, it ends the chain, and
   * `result` is the response that pointed to it. Otherwise the walk ends at the first non-redirect response.
   * 301/302/303 after a non-GET continue as GET without a body; 307/308 repeat the method and body.
   * `chain` lists every URL visited, in order, plus the stopping URL. `init.cookieUrl` applies to the first
   * request only.
   */
  async follow(
    url: string,
    opts?: { until?: (url: URL) => boolean; init?: HttpInit },
  ): Promise<{ result: HttpResult; chain: string[] }> {
    const chain: string[] = [url];
    let init: HttpInit | undefined = opts?.init;
    let result = await this.request(url, init);
    for (let hops = 0; REDIRECTS.has(result.status) && result.location; hops++) {
      if (hops >= MAX_REDIRECTS) {
        throw new Error(`too many redirects (>${MAX_REDIRECTS}):\n  ${chain.join('\n  ')}`);
      }
      const next = result.location;
      chain.push(next);
      if (opts?.until?.(new URL(next))) break;
      if (init) {
        // cookieUrl belongs to the first URL only.
        const { cookieUrl: _first, ...rest } = init;
        init = result.status === 307 || result.status === 308 ? rest : withoutBody(rest);
      }
      result = await this.request(next, init);
    }
    return { result, chain };
  }
}

function withoutBody(init: HttpInit): HttpInit {
  const { body: _body, method: _method, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.delete('content-type');
  headers.delete('content-length');
  return { ...rest, headers, method: 'GET' };
}

// ---------------------------------------------------------------------------------------------------------
// Minimal HTML form parsing (our own pages and oidc-provider's; no general HTML parser needed).

export interface HtmlForm {
  id: string | null;
  method: string;
  /** Absolute action URL. */
  action: string;
  /** Inner HTML of the form. */
  html: string;
  /** name -> value of every <input> with a name (hidden ones included; value '' when absent). */
  inputs: Map<string, string>;
  /** Submit buttons inside the form or pointing to it with form="id". */
  buttons: { name: string | null; value: string | null; label: string }[];
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, e: string) => {
    const lower = e.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'quot') return '"';
    if (lower === 'apos') return "'";
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    return String.fromCodePoint(parseInt(lower.slice(1), 10));
  });
}

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!m) return null;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** Every <form> in the page, with actions resolved against `pageUrl`. */
export function parseForms(html: string, pageUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  const allButtons = [...html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = ` ${m[1] ?? ''}`;
    const inner = m[2] ?? '';
    const id = attr(open, 'id');
    const inputs = new Map<string, string>();
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const tag = ` ${input[1] ?? ''}`;
      const name = attr(tag, 'name');
      if (name) inputs.set(name, attr(tag, 'value') ?? '');
    }
    const buttons: HtmlForm['buttons'] = [];
    const addButton = (b: RegExpMatchArray): void => {
      const tag = ` ${b[1] ?? ''}`;
      const type = (attr(tag, 'type') ?? 'submit').toLowerCase();
      if (type !== 'submit') return;
      buttons.push({
        name: attr(tag, 'name'),
        value: attr(tag, 'value'),
        label: decodeEntities((b[2] ?? '').replace(/<[^>]*>/g, '')).trim(),
      });
    };
    for (const b of inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) addButton(b);
    if (id) {
      for (const b of allButtons) if (attr(` ${b[1] ?? ''}`, 'form') === id) addButton(b);
    }
    forms.push({
      id,
      method: (attr(open, 'method') ?? 'get').toLowerCase(),
      action: new URL(attr(open, 'action') ?? '', pageUrl).href,
      html: inner,
      inputs,
      buttons,
    });
  }
  return forms;
}

function postForm(client: HttpClient, form: HtmlForm, fields: Record<string, string>): Promise<HttpResult> {
  const body = new URLSearchParams();
  for (const [k, v] of form.inputs) if (!(k in fields)) body.set(k, v);
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  return client.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
}

function describeStop(result: HttpResult, chain: string[]): string {
  return `ended at ${result.status} ${result.url}\n  chain:\n    ${chain.join('\n    ')}\n  body: ${result.text.slice(0, 300)}`;
}

/**
 * Follows redirects from `start` while the next URL's origin is one of `origins` and `stopAt` does not
 * claim it. Records the response of the first request to `watchOrigin` (the BFF callback) if given.
 */
async function walk(
  client: HttpClient,
  first: HttpResult,
  chain: string[],
  origins: Set<string>,
  stopAt: ((url: URL) => boolean) | undefined,
  watch?: { origin: string; seen?: HttpResult },
): Promise<{ finalUrl: URL; last: HttpResult }> {
  let result = first;
  for (let hops = 0; REDIRECTS.has(result.status) && result.location; hops++) {
    if (hops >= MAX_REDIRECTS) throw new Error(`too many redirects (>${MAX_REDIRECTS}):\n  ${chain.join('\n  ')}`);
    const next = new URL(result.location);
    chain.push(next.href);
    if (!origins.has(next.origin) || stopAt?.(next)) return { finalUrl: next, last: result };
    result = await client.request(next.href);
    if (watch && !watch.seen && next.origin === watch.origin) watch.seen = result;
  }
  return { finalUrl: new URL(result.url), last: result };
}

/**
 * From a BFF /login URL (or any URL that leads to the provider's login page, e.g. an authorization URL):
 * follows redirects to the login page, submits login+password, follows through to the BFF /callback and
 * stops at the first URL whose origin is neither the provider's nor the BFF's (the microsite, or a
 * redirect_uri elsewhere), returning that URL (not requested) and the chain. If the walk ends earlier on a
 * non-redirect page (e.g. a BFF error or a popup-closing page), `finalUrl` is that page's URL.
 * `callbackResult` is the response of the first request to the BFF's origin after the provider.
 * Throws if the login form is not found or the provider re-renders it (wrong credentials).
 * `cancel: true` presses Cancel instead (the provider answers access_denied to the callback).
 */
export async function signIn(
  client: HttpClient,
  loginUrl: string,
  user: { login: string; password: string },
  opts?: { cancel?: boolean; stopAt?: (url: URL) => boolean },
): Promise<{ finalUrl: URL; chain: string[]; callbackResult?: HttpResult }> {
  const bffOrigin = new URL(loginUrl).origin;
  // Phase 1: to the login page. The provider's origin is the first one met that is not the BFF's.
  let providerOrigin: string | undefined;
  const { result: page, chain } = await client.follow(loginUrl, {
    until: (url) => {
      if (opts?.stopAt?.(url)) return true;
      if (url.origin === bffOrigin) return false;
      // An authorization response off the BFF's origin: the login URL was the provider's own, and the
      // provider answered without showing the form.
      if (url.searchParams.has('code') || url.searchParams.has('error')) return true;
      providerOrigin ??= url.origin;
      return url.origin !== providerOrigin;
    },
  });
  const last = new URL(chain[chain.length - 1]!);
  if (REDIRECTS.has(page.status) && page.location === last.href) {
    if (opts?.stopAt?.(last)) return { finalUrl: last, chain };
    throw new Error(
      `signIn: left for ${last.origin} before any login form was shown (does the provider already have a session for this client's jar?); ${describeStop(page, chain)}`,
    );
  }
  const forms = parseForms(page.text, page.url);
  const loginForm = forms.find((f) => f.method === 'post' && f.inputs.has('password') && f.inputs.has('login'));
  if (!loginForm) {
    throw new Error(`signIn: no login form (inputs "login" and "password") found; ${describeStop(page, chain)}`);
  }
  providerOrigin = new URL(page.url).origin;

  let submitted: HttpResult;
  if (opts?.cancel) {
    const cancelForm = forms.find(
      (f) => f !== loginForm && f.method === 'post' && f.buttons.some((b) => /cancel/i.test(b.label)),
    );
    if (!cancelForm) throw new Error(`signIn: no Cancel form found on ${page.url}`);
    submitted = await postForm(client, cancelForm, {});
  } else {
    submitted = await postForm(client, loginForm, { login: user.login, password: user.password });
  }
  chain.push(submitted.url);
  if (!REDIRECTS.has(submitted.status)) {
    const again = parseForms(submitted.text, submitted.url).some((f) => f.inputs.has('password'));
    throw new Error(
      again
        ? `signIn: the provider rejected the credentials for "${user.login}" (login form shown again, status ${submitted.status})`
        : `signIn: submitting the form did not redirect; ${describeStop(submitted, chain)}`,
    );
  }

  const watch: { origin: string; seen?: HttpResult } = { origin: bffOrigin };
  const watchCallback = bffOrigin !== providerOrigin ? watch : undefined;
  const { finalUrl } = await walk(
    client,
    submitted,
    chain,
    new Set([providerOrigin, bffOrigin]),
    opts?.stopAt,
    watchCallback,
  );
  return watch.seen ? { finalUrl, chain, callbackResult: watch.seen } : { finalUrl, chain };
}

/**
 * Where a BFF logout answer's `logoutUrl` leads: it is the BFF's own `GET /logout/end?handle=…` (never a
 * URL with a token in it), which redirects to the provider's sign-out page. Requests it once (the handle
 * is single use) and returns the redirect's target.
 */
export async function followLogoutHandle(client: HttpClient, logoutUrl: string): Promise<URL> {
  const res = await client.request(logoutUrl);
  if (res.status !== 302 || !res.location) throw new Error(`followLogoutHandle: ${logoutUrl} answered ${res.status}, not a redirect`);
  return new URL(res.location);
}

/**
 * Finishes an RP-initiated logout at oidc-provider given the end-session URL (or a BFF /logout URL that
 * redirects there): loads the confirm page, submits its form with `logout=yes`, and follows redirects while
 * they stay on the provider's or the starting origin. `finalUrl` is the first URL elsewhere (the
 * post_logout_redirect_uri's site; not requested) or the last page reached (the provider's "Signed out").
 */
export async function completeProviderLogout(
  client: HttpClient,
  logoutUrl: string,
  opts?: { stopAt?: (url: URL) => boolean },
): Promise<{ finalUrl: URL; chain: string[] }> {
  const startOrigin = new URL(logoutUrl).origin;
  const { result: page, chain } = await client.follow(logoutUrl);
  const form = parseForms(page.text, page.url).find((f) => f.method === 'post' && f.inputs.has('xsrf'));
  if (!form) {
    throw new Error(`completeProviderLogout: no logout confirm form (hidden "xsrf") found; ${describeStop(page, chain)}`);
  }
  const providerOrigin = new URL(page.url).origin;
  const submitted = await postForm(client, form, { logout: 'yes' });
  chain.push(submitted.url);
  if (!REDIRECTS.has(submitted.status)) {
    throw new Error(`completeProviderLogout: confirm did not redirect; ${describeStop(submitted, chain)}`);
  }
  const { finalUrl } = await walk(client, submitted, chain, new Set([providerOrigin, startOrigin]), opts?.stopAt);
  return { finalUrl, chain };
}
