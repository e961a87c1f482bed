import type { Logger } from 'pino';

/**
 * Security-relevant events, for a SIEM or an audit trail. Each is also one
 * structured log line (`audit: <type>`). They name sessions and users by
 * id only: never tokens, cookies or claims beyond `sub`.
 */
export type AuditEvent =
  | { type: 'login'; sid: string; sub: string; psid?: string; time: number }
  | { type: 'logout'; sid: string; sub: string; everywhere: boolean; time: number }
  | { type: 'refresh_failed'; sid: string; sub: string; code: string; time: number }
  | { type: 'backchannel_logout'; sub?: string; psid?: string; jti: string; time: number };

export type AuditHook = (event: AuditEvent) => void;

/**
 * One function for every audit event: logs it, then hands it to the
 * deployer's hook. A hook that throws is logged and otherwise ignored: the
 * request it was called from goes on.
 */
export function createAudit(logger: Logger, hook?: AuditHook): AuditHook {
  return (event) => {
    logger.info({ audit: event }, `audit: ${event.type}`);
    if (!hook) return;
    try {
      hook(event);
    } catch (err) {
      logger.warn({ audit: event.type, cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'audit hook failed');
    }
  };
}
