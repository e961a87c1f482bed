/**
 * Typed fetch to the BFF: credentials always included, the CSRF header on
 * state-changing calls, a timeout, and every failure mapped to a stable code.
 */
import type { ErrorBody, LatchCallbackError, LatchErrorCode } from '../../bff/contract.ts';

/** Header the BFF requires on state-changing requests (value `1`). */
export const CSRF_HEADER = 'Latch-CSRF';

/**
 * Codes the widget can report: the BFF's own, the callback's, and the
 * widget's: `LATCH_UNREACHABLE` (network error, timeout, or an answer without
 * a JSON error body), `LATCH_NO_BFF` (no `bff` attribute and no `configure({ bff })`),
 * and for the partitioned hand-off `LATCH_POPUP_BLOCKED` and `LATCH_INSECURE_CONTEXT`
 * (a page that is not https).
 */
export type LatchWidgetErrorCode =
  | LatchErrorCode
  | LatchCallbackError
  | 'LATCH_UNREACHABLE'
  | 'LATCH_NO_BFF'
  | 'LATCH_POPUP_BLOCKED'
  | 'LATCH_INSECURE_CONTEXT';

/** A failed call to the BFF. `message`: the BFF's words, else the code. */
export class LatchError extends Error {
  constructor(
    readonly code: LatchWidgetErrorCode,
    readonly status = 0,
    message?: string,
  ) {
    super(message || code);
  }
}

/** JSON from the BFF, or a LatchError. */
export async function request<T>(url: string, init: RequestInit, timeout: number): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: 'include', signal: AbortSignal.timeout(timeout), ...init });
  } catch {
    throw new LatchError('LATCH_UNREACHABLE');
  }
  const body = (await res.json().catch(() => null)) as (T & Partial<ErrorBody>) | null;
  if (!res.ok || !body) {
    // No JSON error body: not the BFF answering (a proxy's error page, a wrong URL).
    throw new LatchError(body?.error?.code ?? 'LATCH_UNREACHABLE', res.status, body?.error?.message);
  }
  return body;
}
