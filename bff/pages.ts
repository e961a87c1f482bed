import { randomBytes } from 'node:crypto';
import type { LatchPopupMessage } from './contract.ts';

/** The BFF's own HTML pages (error page, popup callback page), each with a strict CSP. */
export interface Page {
  html: string;
  csp: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1f2328}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}a{color:#0969da}';

function page(title: string, body: string, scriptNonce?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

const BASE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A friendly error page for navigations (/login, /callback). The code is machine-readable too. */
export function errorPage(code: string, message: string, backTo?: string): Page {
  const back = backTo ? `<p><a href="${escapeHtml(backTo)}">Back to the site</a></p>` : '';
  const html = page(
    'Sign-in failed',
    `<main><h1>Sign-in did not complete</h1><p>${escapeHtml(message)}</p><p>Error code: <code id="latch-error-code" data-code="${escapeHtml(code)}">${escapeHtml(code)}</code></p>${back}</main>`,
  );
  return { html, csp: BASE_CSP };
}

/**
 * The page a silent sign-in ends on (`/login?mode=silent`, in a hidden iframe): it tells its parent,
 * addressed to the parent's exact origin only. Framed by `frameAncestors` only (the site's allowed
 * origins): every other BFF page keeps `frame-ancestors 'none'` and X-Frame-Options DENY.
 */
export function silentResultPage(message: LatchPopupMessage, parentOrigin: string, frameAncestors: readonly string[]): Page {
  const nonce = randomBytes(16).toString('base64');
  const payload = JSON.stringify({ message, origin: parentOrigin }).replace(/</g, '\\u003c');
  const script = `(function(){var d=${payload};if(window.parent&&window.parent!==window)window.parent.postMessage(d.message,d.origin)})();`;
  const html = page(message.ok ? 'Signed in' : 'Not signed in', `<script nonce="${nonce}">${script}</script>`);
  // Origins as configured are serialised URLs (scheme://host[:port]): nothing that could end the directive.
  const ancestors = frameAncestors.filter((o) => /^https?:\/\/[^\s;,']+$/.test(o)).join(' ') || "'none'";
  return { html, csp: `${BASE_CSP.replace("frame-ancestors 'none'", `frame-ancestors ${ancestors}`)}; script-src 'nonce-${nonce}'` };
}

/**
 * The page a popup sign-in ends on: it tells the opener, addressed to its
 * exact origin only, and closes itself.
 */
export function popupResultPage(message: LatchPopupMessage, openerOrigin: string, fallbackUrl: string): Page {
  const nonce = randomBytes(16).toString('base64');
  const payload = JSON.stringify({ message, origin: openerOrigin, fallback: fallbackUrl }).replace(/</g, '\\u003c');
  const script = `(function(){var d=${payload};try{if(window.opener){window.opener.postMessage(d.message,d.origin);window.close();return}}catch(e){}location.replace(d.fallback)})();`;
  const html = page(
    message.ok ? 'Signed in' : 'Sign-in failed',
    `<main><p>${message.ok ? 'Signed in. You can close this window.' : 'Sign-in did not complete. You can close this window.'}</p></main><script nonce="${nonce}">${script}</script>`,
  );
  return { html, csp: `${BASE_CSP}; script-src 'nonce-${nonce}'` };
}
