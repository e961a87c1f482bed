import type { RouteTable } from './table.ts';
import { describeError, LatchError } from '../errors.ts';
import type { ReadinessCheck, RouteDeps } from './deps.ts';

/** A probe must answer before the orchestrator gives up on it (Kubernetes' default is 1 s; we document 3 s). */
export const READY_TIMEOUT_MS = 2500;

export interface ReadyBody {
  ready: boolean;
  /** Each check's name and `ok`, or the LATCH_* code (or `timeout`) it failed with. */
  checks: Record<string, string>;
}

/**
 * GET /readyz: readiness, unlike /healthz (liveness). 503 while the provider's discovery document or
 * key set cannot be loaded or holds no key for the pinned algorithm, or while any extra check in
 * `deps.readiness` fails (e.g. a configured Redis that is down). The list is read on every probe, so
 * checks may be added after start-up.
 *
 * The provider is asked on every probe, and its answer is not cached here: `Provider.ready()` is
 * cheap once loaded (oidc.ts reaches the server only when the key set is missing, past its age or
 * its last fetch failed), so a cache would only hide a failed key refetch, and a probe that forced
 * a refetch would delay the one a key rotation needs.
 */
export function readyRoute(router: RouteTable, deps: RouteDeps) {
  let providerInFlight: Promise<void> | undefined;
  const provider: ReadinessCheck = {
    name: 'provider',
    check() {
      // Concurrent probes share one round of discovery + keys.
      providerInFlight ??= deps.provider.ready().finally(() => {
        providerInFlight = undefined;
      });
      return providerInFlight;
    },
  };

  router.get('/readyz', { anyHost: true }, async (ctx) => {
    const checks = [provider, ...(deps.readiness ?? [])];
    const results = await Promise.all(checks.map((c) => runCheck(c)));
    const body: ReadyBody = { ready: results.every((r) => r.ok), checks: {} };
    for (const [i, r] of results.entries()) body.checks[checks[i]!.name] = r.ok ? 'ok' : r.reason;
    if (!body.ready) {
      deps.logger.warn({ checks: body.checks, causes: results.filter((r) => !r.ok).map((r) => r.cause) }, 'not ready');
    }
    ctx.status = body.ready ? 200 : 503;
    ctx.body = body;
  });
}

type CheckResult = { ok: true } | { ok: false; reason: string; cause: string };

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadinessTimeout()), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return { ok: true };
  } catch (err) {
    const reason = err instanceof ReadinessTimeout ? 'timeout' : err instanceof LatchError ? err.code : 'error';
    return { ok: false, reason, cause: err instanceof Error ? describeError(err) : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

class ReadinessTimeout extends Error {
  constructor() {
    super(`no answer within ${READY_TIMEOUT_MS} ms`);
    this.name = 'ReadinessTimeout';
  }
}
