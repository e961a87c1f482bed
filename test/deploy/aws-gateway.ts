/**
 * A stand-in for the AWS services in front of a Lambda, on loopback: each HTTP request becomes an
 * event built from the documented example in ./events/ (the request's own fields filled in the way
 * the service fills them), the handler is invoked, and its result becomes the HTTP response the way
 * the service reads it (see events/README.md). Strict where BFFs break: a Set-Cookie that is not
 * where the service looks for it is dropped, as the service would drop it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { freePort, listen, type Listening } from '../helpers/net.ts';
import type { LambdaEvent, LambdaResult } from '../../bff/lambda.ts';

export type Source = 'rest' | 'http-api' | 'function-url' | 'alb' | 'alb-single';

export const FIXTURES: Record<Source, string> = {
  rest: 'apigateway-rest-v1.json',
  'http-api': 'apigateway-http-v2.json',
  'function-url': 'lambda-function-url.json',
  alb: 'alb-multi-value.json',
  'alb-single': 'alb-single-value.json',
};

export function fixture(source: Source): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./events/${FIXTURES[source]}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

export type Invoke = (event: LambdaEvent, context: Record<string, unknown>) => Promise<LambdaResult>;

export interface Gateway {
  source: Source;
  /** What a browser calls: scheme, host, port and the stage prefix when the service shows one. */
  url: string;
  /** Every event handed to the function, in order. */
  events: LambdaEvent[];
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** A REST or HTTP API stage; it appears in the public URL. Default: none ($default). */
  stage?: string;
  /** Known beforehand (the BFF's base URL must name it); default: a free one. */
  port?: number;
}

interface Incoming {
  method: string;
  path: string;
  /** Without the `?`. */
  rawQuery: string;
  /** [name, value] as sent, repeated names kept. */
  headers: Array<[string, string]>;
  body: Buffer;
  sourceIp: string;
}

const TEXT_BODY = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;

export async function startGateway(source: Source, invoke: Invoke, options: GatewayOptions = {}): Promise<Gateway> {
  const port = options.port ?? (await freePort());
  const stage = options.stage;
  const prefix = stage && (source === 'rest' || source === 'http-api') ? `/${stage}` : '';
  const events: LambdaEvent[] = [];
  let server: Listening | undefined;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const incoming = await read(req);
      let event: LambdaEvent;
      if (source === 'rest') {
        if (!incoming.path.startsWith(`${prefix}/`) && incoming.path !== prefix) return send(res, 403, [], '{"message":"Forbidden"}');
        event = restEvent(incoming, stage ?? 'testStage', prefix);
      } else if (source === 'http-api' || source === 'function-url') {
        if (prefix && !incoming.path.startsWith(`${prefix}/`)) return send(res, 404, [], '{"message":"Not Found"}');
        event = v2Event(source, incoming, stage ?? '$default');
      } else {
        event = albEvent(source, incoming);
      }
      events.push(event);
      const result = await invoke(structuredClone(event), { awsRequestId: randomUUID(), functionName: 'latch-bff' });
      const { status, headers, body } = toHttp(source, result);
      send(res, status, headers, body);
    } catch (err) {
      // The function threw: API Gateway answers 502, an ALB 502 too.
      send(res, 502, [['content-type', 'application/json']], JSON.stringify({ message: 'Internal server error', detail: String(err) }));
    }
  };
  server = await listen((req, res) => void handler(req, res), { port });
  return {
    source,
    url: `${server.url}${prefix}`,
    events,
    close: () => server!.close(),
  };
}

async function read(req: IncomingMessage): Promise<Incoming> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (/^(connection|keep-alive|transfer-encoding)$/i.test(name)) continue;
    headers.push([name, req.rawHeaders[i + 1]!]);
  }
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    headers,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  };
}

function send(res: ServerResponse, status: number, headers: Array<[string, string]>, body: string | Buffer) {
  const cookies = headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v);
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'set-cookie' || lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    res.setHeader(name, value);
  }
  if (cookies.length) res.setHeader('set-cookie', cookies);
  res.statusCode = status;
  res.end(body);
}

/** AWS adds these in front of the function (the documented examples show them). */
function forwarded(incoming: Incoming): Array<[string, string]> {
  return [
    ['X-Forwarded-For', incoming.sourceIp],
    ['X-Forwarded-Port', '443'],
    ['X-Forwarded-Proto', 'https'],
    ['X-Amzn-Trace-Id', `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`],
  ];
}

function bodyOf(incoming: Incoming): { body: string | null; isBase64Encoded: boolean } {
  if (incoming.body.length === 0) return { body: null, isBase64Encoded: false };
  const type = incoming.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
  return TEXT_BODY.test(type)
    ? { body: incoming.body.toString('utf8'), isBase64Encoded: false }
    : { body: incoming.body.toString('base64'), isBase64Encoded: true };
}

/** name=value pairs of a raw query; `decode` false keeps percent-encoding (ALB). */
function queryPairs(raw: string, decode: boolean): Array<[string, string]> {
  if (!raw) return [];
  if (decode) return [...new URLSearchParams(raw)];
  return raw.split('&').filter(Boolean).map((part) => {
    const eq = part.indexOf('=');
    return eq === -1 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
  });
}

function multi(pairs: Array<[string, string]>, lowerNames: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [n, v] of pairs) (out[lowerNames ? n.toLowerCase() : n] ??= []).push(v);
  return out;
}

function single(m: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[v.length - 1]!]));
}

function restEvent(incoming: Incoming, stage: string, prefix: string): LambdaEvent {
  const template = fixture('rest') as { requestContext: Record<string, unknown>; stageVariables: unknown };
  const path = incoming.path.slice(prefix.length) || '/';
  const headerPairs: Array<[string, string]> = [...incoming.headers, ...forwarded(incoming)];
  const multiHeaders = multi(headerPairs, false);
  const multiQuery = multi(queryPairs(incoming.rawQuery, true), false);
  const hasQuery = Object.keys(multiQuery).length > 0;
  const identity = template.requestContext['identity'] as Record<string, unknown>;
  const userAgent = headerPairs.find(([n]) => n.toLowerCase() === 'user-agent')?.[1] ?? null;
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: incoming.method,
    headers: single(multiHeaders),
    multiValueHeaders: multiHeaders,
    queryStringParameters: hasQuery ? single(multiQuery) : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: path === '/' ? null : { proxy: path.slice(1) },
    stageVariables: template.stageVariables,
    requestContext: {
      ...template.requestContext,
      stage,
      path: `${prefix}${path}`,
      requestId: randomUUID(),
      httpMethod: incoming.method,
      resourcePath: '/{proxy+}',
      identity: { ...identity, sourceIp: incoming.sourceIp, userAgent },
    },
    ...bodyOf(incoming),
  };
}

function v2Event(source: 'http-api' | 'function-url', incoming: Incoming, stage: string): LambdaEvent {
  const template = fixture(source) as { requestContext: Record<string, unknown>; stageVariables: unknown };
  const cookies: string[] = [];
  const headers: Record<string, string> = {};
  for (const [name, value] of [...incoming.headers, ...forwarded(incoming)]) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
      continue;
    }
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of queryPairs(incoming.rawQuery, true)) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const http = template.requestContext['http'] as Record<string, unknown>;
  const { body, isBase64Encoded } = bodyOf(incoming);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: incoming.path,
    rawQueryString: incoming.rawQuery,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      ...template.requestContext,
      // An HTTP API route without an authorizer, a function URL with auth type NONE.
      ...(source === 'function-url' ? { authorizer: null } : {}),
      domainName: headers['host']?.replace(/:\d+$/, '') ?? template.requestContext['domainName'],
      http: { ...http, method: incoming.method, path: incoming.path, sourceIp: incoming.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      stage,
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === null ? {} : { body }),
    isBase64Encoded,
    ...(source === 'http-api' ? { stageVariables: template.stageVariables } : { pathParameters: null, stageVariables: null }),
  };
}

function albEvent(source: 'alb' | 'alb-single', incoming: Incoming): LambdaEvent {
  const template = fixture(source) as { requestContext: Record<string, unknown> };
  const headerPairs = [...incoming.headers, ...forwarded(incoming)];
  const multiHeaders = multi(headerPairs, true);
  const multiQuery = multi(queryPairs(incoming.rawQuery, false), false);
  const { body, isBase64Encoded } = bodyOf(incoming);
  const common = { requestContext: template.requestContext, httpMethod: incoming.method, path: incoming.path, body: body ?? '', isBase64Encoded };
  return source === 'alb'
    ? { ...common, multiValueQueryStringParameters: multiQuery, multiValueHeaders: multiHeaders }
    : { ...common, queryStringParameters: single(multiQuery), headers: single(multiHeaders) };
}

/** The HTTP response the service makes of the function's result. */
function toHttp(source: Source, result: LambdaResult): { status: number; headers: Array<[string, string]>; body: Buffer } {
  if (!result || typeof result.statusCode !== 'number') throw new Error(`malformed Lambda result: ${JSON.stringify(result)}`);
  const headers: Array<[string, string]> = [];
  const fromSingle = (map: Record<string, string> | undefined, skip: (name: string) => boolean) => {
    for (const [n, v] of Object.entries(map ?? {})) if (!skip(n)) headers.push([n, v]);
  };
  const fromMulti = (map: Record<string, string[]> | undefined) => {
    for (const [n, vs] of Object.entries(map ?? {})) for (const v of vs) headers.push([n, v]);
  };
  switch (source) {
    case 'rest': {
      // Merged; a name in multiValueHeaders replaces the same name in headers.
      const multiNames = new Set(Object.keys(result.multiValueHeaders ?? {}).map((n) => n.toLowerCase()));
      fromSingle(result.headers, (n) => multiNames.has(n.toLowerCase()));
      fromMulti(result.multiValueHeaders);
      break;
    }
    case 'http-api':
    case 'function-url':
      // Cookies only from cookies[]; a set-cookie header is not how 2.0 returns them.
      fromSingle(result.headers, (n) => n.toLowerCase() === 'set-cookie');
      for (const c of result.cookies ?? []) headers.push(['set-cookie', c]);
      break;
    case 'alb':
      fromMulti(result.multiValueHeaders);
      break;
    case 'alb-single':
      fromSingle(result.headers, () => false);
      break;
  }
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return { status: result.statusCode, headers, body };
}
