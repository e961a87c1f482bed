import type { ErrorBody, LatchErrorCode } from './contract.ts';

/**
 * The one error type the BFF answers with. `code` is stable (clients and
 * tests match on it), `message` is safe to show, `cause` is for the log only.
 */
export class LatchError extends Error {
  readonly code: LatchErrorCode;
  readonly status: number;
  readonly expose = true;
  /** Extra response headers (e.g. WWW-Authenticate). */
  readonly headers: Record<string, string>;
  /** Members of the JSON error body besides `error` (ErrorBody), e.g. `/me`'s `sameSite`. */
  readonly body: Omit<ErrorBody, 'error'>;

  constructor(
    code: LatchErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string>; body?: Omit<ErrorBody, 'error'> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LatchError';
    this.code = code;
    this.status = status;
    this.headers = options.headers ?? {};
    this.body = options.body ?? {};
  }
}

/**
 * The client's own side of the transfer failed: it went away before its body was all there, or sent it
 * too slowly. Answered with its 4xx when anyone still listens, and logged at debug: it is not a server
 * fault, and anyone can cause it (an error line per aborted upload would page the on-call).
 */
export class ClientTransferError extends LatchError {}

export const unauthenticated = (cause?: unknown) =>
  new LatchError('LATCH_UNAUTHENTICATED', 401, 'Not signed in.', { cause });

export const sessionExpired = (cause?: unknown) =>
  new LatchError('LATCH_SESSION_EXPIRED', 401, 'The session has ended. Sign in again.', { cause });

export const badRequest = (message: string, cause?: unknown) =>
  new LatchError('LATCH_BAD_REQUEST', 400, message, { cause });

/** Start-up configuration problems; each names its environment variable. */
export class ConfigError extends Error {
  readonly problems: ReadonlyArray<{ variable: string; problem: string }>;
  constructor(problems: Array<{ variable: string; problem: string }>) {
    super(
      'Invalid Latch configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
