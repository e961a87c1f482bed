import type Koa from 'koa';
import type { Logger } from 'pino';
import serverless from 'serverless-http';
import { createBff, type BffOptions } from './app.ts';
import { loadConfig } from './config.ts';
import type { ErrorBody } from './contract.ts';
import { ERRORS } from './errors.ts';

/**
 * The AWS Lambda entry: `handler` serves API Gateway REST APIs (payload 1.0), HTTP APIs (payload
 * 1.0 or 2.0), Lambda function URLs and Application Load Balancers (multi-value headers on, see
 * below) through serverless-http, which turns each event into a Node request for the Koa app.
 *
 * Around serverless-http, this module owns what BFFs most often get wrong on Lambda:
 * - Every Set-Cookie survives: payload 2.0 (HTTP API, function URLs) in `cookies[]`, payload 1.0
 *   and ALB in `multiValueHeaders`. serverless-http would drop a lone cookie on an ALB without
 *   multi-value headers and leave a single one in `headers` on 2.0, where function URLs ignore it.
 *   An ALB target group without multi-value headers can return one Set-Cookie only: a response
 *   with more is answered 500 LATCH_ALB_MULTI_VALUE_HEADERS (logged once), never sent with a
 *   cookie missing; only a first cookie that removes one (the session's, on /logout) goes with it.
 * - Request cookies: payload 2.0 `cookies[]`, every `Cookie` header of payload 1.0 and ALB.
 * - The query string: payload 2.0 `rawQueryString` as is (duplicates in order); payload 1.0 and
 *   ALB from their multi-value parameters (ALB values are not URL-decoded by AWS: decoded here).
 * - Base64 bodies both ways (binary answers only: JSON, HTML and scripts go as text).
 * - The client address: the event's sourceIp (API Gateway, function URLs); for an ALB, which
 *   names none, the address the ALB appended to X-Forwarded-For. LATCH_TRUST_PROXY stays false.
 * - Paths: an HTTP API stage (`/prod/login`) and the path of LATCH_BASE_URL (a custom domain's
 *   base path mapping, an ALB path rule) are removed before routing; REST APIs already leave the
 *   stage out of `path`.
 *
 * The configuration is read once per cold start (on the first invocation), then kept.
 */

export type LambdaEvent = Record<string, unknown>;

export interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

export type LambdaHandler = (event: LambdaEvent, context?: unknown) => Promise<LambdaResult>;

export interface LambdaAdapterOptions {
  /** A path prefix to remove before routing (LATCH_BASE_URL's path). */
  basePath?: string;
  logger?: Pick<Logger, 'error'>;
}

type EventKind = 'v1' | 'v2' | 'alb' | 'alb-single';

interface AnyEvent {
  version?: string;
  requestContext?: { elb?: unknown; stage?: string };
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  cookies?: string[] | null;
}

export function eventKind(event: LambdaEvent): EventKind {
  const e = event as AnyEvent;
  if (e.requestContext?.elb) return e.multiValueHeaders ? 'alb' : 'alb-single';
  return e.version === '2.0' ? 'v2' : 'v1';
}

const TEXT_TYPE = /^(text\/|application\/(json|javascript|ecmascript|xml|x-www-form-urlencoded|problem\+json)|[^;]*\+(json|xml))/i;

/** Wraps a Koa app (the BFF, or any other) as a Lambda handler for the four event sources. */
export function toLambdaHandler(app: Pick<Koa, 'callback'>, options: LambdaAdapterOptions = {}): LambdaHandler {
  const basePath = options.basePath && options.basePath !== '/' ? options.basePath.replace(/\/+$/, '') : undefined;
  const cookiesOut = new WeakMap<object, string[]>();
  let albWarned = false;

  const inner = serverless(app, {
    request(req: { url?: string; headers: Record<string, string | string[] | undefined>; socket: { remoteAddress?: string } }, event: LambdaEvent) {
      const kind = eventKind(event);
      const prefixes: string[] = [];
      const stage = (event as AnyEvent).requestContext?.stage;
      if (kind === 'v2' && stage && stage !== '$default') prefixes.push(`/${stage}`);
      if (basePath) prefixes.push(basePath);
      req.url = stripPrefix(req.url ?? '/', prefixes);
      const cookie = requestCookieHeader(event as AnyEvent, kind);
      if (cookie === undefined) delete req.headers['cookie'];
      else req.headers['cookie'] = cookie;
      // An ALB event names no source address: the ALB appends the client's to X-Forwarded-For.
      if ((kind === 'alb' || kind === 'alb-single') && !req.socket.remoteAddress) {
        const forwarded = [...headerValues((event as AnyEvent).multiValueHeaders, 'x-forwarded-for'), ...headerValues((event as AnyEvent).headers, 'x-forwarded-for')];
        const last = forwarded.join(',').split(',').map((a) => a.trim()).filter(Boolean).at(-1);
        if (last) req.socket.remoteAddress = last;
      }
    },
    response(res: { getHeader(name: string): unknown }, event: LambdaEvent) {
      const raw = res.getHeader('set-cookie');
      cookiesOut.set(event, Array.isArray(raw) ? raw.map(String) : raw === undefined || raw === null ? [] : [String(raw)]);
    },
    binary(headers: Record<string, string | undefined>) {
      if (headers['content-encoding']) return true;
      const type = headers['content-type'];
      return type !== undefined && type !== '' && !TEXT_TYPE.test(type);
    },
  });

  return async (event, context): Promise<LambdaResult> => {
    const result = (await inner(event, context ?? {})) as LambdaResult;
    // Captured from the Node response by the `response` hook; failing that, whatever serverless-http kept.
    const cookies = cookiesOut.get(event) ?? [
      ...(result.cookies ?? []),
      ...headerValues(result.multiValueHeaders, 'set-cookie'),
      ...headerValues(result.headers, 'set-cookie'),
    ];
    const kind = eventKind(event);
    const headers = withoutSetCookie(result.headers);
    const multi = withoutSetCookie(result.multiValueHeaders);
    switch (kind) {
      case 'v2':
        return { statusCode: result.statusCode, headers: headers ?? {}, cookies, body: result.body, isBase64Encoded: result.isBase64Encoded };
      case 'v1':
        return {
          statusCode: result.statusCode,
          headers: headers ?? {},
          multiValueHeaders: { ...multi, ...(cookies.length ? { 'set-cookie': cookies } : {}) },
          body: result.body,
          isBase64Encoded: result.isBase64Encoded,
        };
      case 'alb':
        return {
          statusCode: result.statusCode,
          multiValueHeaders: { ...multi, ...(cookies.length ? { 'set-cookie': cookies } : {}) },
          body: result.body,
          isBase64Encoded: result.isBase64Encoded,
        };
      case 'alb-single': {
        if (cookies.length > 1) {
          if (!albWarned) {
            albWarned = true;
            options.logger?.error(
              { cookies: cookies.length, code: 'LATCH_ALB_MULTI_VALUE_HEADERS' },
              'this ALB target group passes single-value headers, so only one Set-Cookie could be returned: answering 500 LATCH_ALB_MULTI_VALUE_HEADERS instead of losing a cookie. Turn on multi-value headers: target group attribute lambda.multi_value_headers.enabled=true.',
            );
          }
          // The one cookie that may go alone: the first, when it removes a cookie. The BFF puts the removal
          // that matters first (/logout: the session cookie, whose session has already ended server-side;
          // /callback: the spent transaction). A cookie that sets a value never goes without the others.
          const first = cookies[0]!;
          const alone: Record<string, string> = removesCookie(first) ? { 'set-cookie': first } : {};
          const { status, message } = ERRORS.LATCH_ALB_MULTI_VALUE_HEADERS;
          const body: ErrorBody = { error: { code: 'LATCH_ALB_MULTI_VALUE_HEADERS', message } };
          return {
            statusCode: status,
            headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...alone },
            body: JSON.stringify(body),
            isBase64Encoded: false,
          };
        }
        const single: Record<string, string> = { ...headers };
        if (cookies[0] !== undefined) single['set-cookie'] = cookies[0];
        return {
          statusCode: result.statusCode,
          headers: single,
          body: result.body,
          isBase64Encoded: result.isBase64Encoded,
        };
      }
    }
  };
}

/**
 * The BFF as a Lambda handler. The environment is read and validated on the first invocation
 * (once per cold start); a configuration error fails every invocation of this instance with the
 * same message, naming each bad variable.
 */
export function createLambdaHandler(env: Record<string, string | undefined> = process.env, options: BffOptions = {}): LambdaHandler {
  let ready: LambdaHandler | undefined;
  let failed: unknown;
  return (event, context) => {
    if (!ready && failed === undefined) {
      try {
        const config = loadConfig(env);
        const app = createBff(config, options);
        ready = toLambdaHandler(app, { basePath: config.baseUrl.pathname, logger: app.latch.logger });
      } catch (err) {
        failed = err;
      }
    }
    if (!ready) return Promise.reject(failed);
    return ready(event, context);
  };
}

/** The Lambda handler (`dist/bff/lambda.handler`), configured from the function's environment. */
export const handler: LambdaHandler = createLambdaHandler();

function stripPrefix(url: string, prefixes: string[]): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  for (const prefix of prefixes) {
    if (path === prefix) return `/${query}`;
    if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length) + query;
  }
  return url;
}

function headerValues(map: Record<string, unknown> | null | undefined, name: string): string[] {
  if (!map) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) out.push(...value.map(String));
    else if (typeof value === 'string') out.push(value);
  }
  return out;
}

/** One Cookie header from wherever this event kind carries cookies. */
function requestCookieHeader(event: AnyEvent, kind: EventKind): string | undefined {
  let crumbs: string[];
  if (kind === 'v2') crumbs = event.cookies?.length ? event.cookies : headerValues(event.headers, 'cookie');
  else {
    const multi = headerValues(event.multiValueHeaders, 'cookie');
    crumbs = multi.length ? multi : headerValues(event.headers, 'cookie');
  }
  const joined = crumbs.map((c) => c.trim()).filter(Boolean).join('; ');
  return joined === '' ? undefined : joined;
}

/** True for a Set-Cookie that removes its cookie (Max-Age=0, or an Expires in the past). */
function removesCookie(setCookie: string): boolean {
  const maxAge = /;\s*max-age=(-?\d+)/i.exec(setCookie);
  if (maxAge) return Number(maxAge[1]) <= 0;
  const expires = /;\s*expires=([^;]+)/i.exec(setCookie);
  return expires !== null && Date.parse(expires[1]!) <= Date.now();
}

function withoutSetCookie<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!map) return undefined;
  return Object.fromEntries(Object.entries(map).filter(([key]) => key.toLowerCase() !== 'set-cookie'));
}
