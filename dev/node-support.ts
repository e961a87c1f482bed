/**
 * Node 20 and the dev provider. oidc-provider 9 writes "oidc-provider WARNING: Unsupported runtime.
 * Use Node.js v22.x LTS, or a later LTS release." with console.warn when its module is evaluated on
 * a Node older than 22 (lib/index.js: `process.release.lts` before 'Jod', or no LTS name at all).
 * It is right: Node 20 reached its end of life in April 2026. But it says so once per process: on
 * every `npm start`, and 25 times in one `npm test`, where nobody can act on it.
 *
 * Latch itself still supports Node 20 (engines `>=20.19`; CI runs the whole suite on 20 and on 24).
 * So dev/provider.ts imports this module just before oidc-provider: it drops that one line, the
 * first time it is written, and nothing else, on Node 20 (and 21) only; and `npm start`'s banner
 * says it once, in our words (`nodeNotice()`). Only dev/ code imports oidc-provider, so the BFF is not concerned.
 */
const WARNING = 'oidc-provider WARNING: Unsupported runtime.';

// Only where the banner speaks (Node 20, 21). On 23 or 25 (no LTS) oidc-provider's warning stands.
if (nodeNotice()) {
  const warn = console.warn;
  console.warn = function (...args: unknown[]): void {
    if (typeof args[0] === 'string' && args[0].includes(WARNING)) {
      console.warn = warn;
      return;
    }
    warn.apply(console, args);
  };
}

/** One line for `npm start`'s banner on a Node past its end of life; undefined on 22 and later. */
export function nodeNotice(version: string = process.versions.node): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= 22) return undefined;
  return `Node ${version} is past its end of life (Node 20: April 2026). Latch runs on it, but deploy on Node 22 or 24.`;
}
