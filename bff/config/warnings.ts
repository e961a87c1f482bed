import type { BffConfig } from '../config.ts';

/** A setting that is valid but weakens the deployment: logged at warn at every start, one line each. */
export interface ConfigWarning {
  /** The environment variable to look at. */
  readonly variable: string;
  /** One line, naming the variable, saying what it costs. */
  readonly message: string;
}

/**
 * LATCH_MAX_HEADER_BYTES above this is warned about. Latch's own largest request head is about
 * 12.5 KB (three 3,800-byte session cookie chunks and a browser's usual headers), which the default
 * 16 KiB holds; twice that is room for anyone's extra cookies. Above it the limit admits only heads
 * Latch never causes, fronts refuse them anyway (an AWS ALB takes 16 KB per header line, nginx 8 KB by
 * default), and each connection may hold twice the limit in Node's header buffer (bff/server.ts sets
 * `maxHeaderSize` to 2x) while its head arrives: at the 256 KiB maximum, 1,000 slow connections pin
 * 512 MiB.
 */
export const HEADER_LIMIT_WARNING_BYTES = 32 * 1024;

/**
 * The warnings for a valid configuration. One list for every entry: `latch-bff --check-config` prints
 * them, and createBff logs them at warn (the server's start-up, the Lambda's cold start), so an
 * insecure setting never starts silently.
 */
export function configWarnings(config: BffConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const warn = (variable: string, message: string) => warnings.push({ variable, message });
  if (config.allowInsecureHttp) {
    warn('LATCH_ALLOW_INSECURE_HTTP', 'LATCH_ALLOW_INSECURE_HTTP=true: http:// URLs are accepted; for local development only');
  }
  for (const site of config.sites) {
    if (site.baseUrl.protocol === 'https:') continue;
    const variable = config.hostRouting ? 'LATCH_BASE_URL / LATCH_SITES' : 'LATCH_BASE_URL';
    warn(variable, `${variable}: ${site.baseUrl.origin} is http://: its cookies are not Secure and lose their __Host- prefix`);
  }
  if (config.sessionIdleTimeout >= config.sessionMaxAge) {
    warn(
      'LATCH_SESSION_IDLE_TIMEOUT',
      `LATCH_SESSION_IDLE_TIMEOUT (${config.sessionIdleTimeout} s) is not shorter than LATCH_SESSION_MAX_AGE (${config.sessionMaxAge} s): an idle session is never ended before its absolute end`,
    );
  }
  if (config.rateLimit.max === 0) {
    warn('LATCH_RATE_LIMIT', 'LATCH_RATE_LIMIT=0: /login and /callback are not rate-limited; anyone can make this BFF send code exchanges to the authorization server without limit');
  }
  if (config.maxHeaderBytes > HEADER_LIMIT_WARNING_BYTES) {
    warn(
      'LATCH_MAX_HEADER_BYTES',
      `LATCH_MAX_HEADER_BYTES=${config.maxHeaderBytes}: above ${HEADER_LIMIT_WARNING_BYTES} no request Latch causes needs it, and each connection may hold twice it in memory while its head arrives`,
    );
  }
  if (config.enablePasswordGrant) {
    warn('LATCH_ENABLE_PASSWORD_GRANT', 'LATCH_ENABLE_PASSWORD_GRANT=true: POST /login/password takes passwords directly. Use it for trusted internal tools only.');
  }
  return warnings;
}
