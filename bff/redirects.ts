/**
 * Open-redirect defence: a target is accepted only when the parsed URL is
 * http(s) and its origin is exactly one of the allowed origins. Anything
 * else (relative paths, `//evil`, `javascript:`, user@host, look-alikes)
 * falls back to the first allowed origin.
 */
export function safeRedirect(value: string | undefined | null, allowedOrigins: readonly string[]): string {
  const fallback = `${allowedOrigins[0]}/`;
  if (!value || value.length > 2048) return fallback;
  // Browsers strip tabs and newlines from URLs; refuse anything carrying control characters.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fallback;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fallback;
  if (url.username || url.password) return fallback;
  if (!allowedOrigins.includes(url.origin)) return fallback;
  return url.href;
}
