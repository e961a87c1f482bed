/**
 * Styles of a chunk that draws in `<latch-login>` (the menus, the panel, the error, the warning, the
 * form): added to the element's own (login.styles.ts: its private properties, `.b` for a button,
 * the focus ring) as a constructed sheet, so no `style-src 'unsafe-inline'` is needed. Each chunk
 * has its own copy of this module.
 */

/** Tagged so that vite.config.ts's template minifier squeezes it like the element's own css``. */
export const css = String.raw;

const sheets = new Map<string, CSSStyleSheet>();

/**
 * Adds `styles` to `host`'s shadow root, once. (A browser without constructed sheets, which Lit
 * would serve with <style>, gets the chunk's part unstyled.)
 */
export function adopt(host: HTMLElement, styles: string): void {
  const root = host.shadowRoot!;
  if (!('adoptedStyleSheets' in root)) return;
  let sheet = sheets.get(styles);
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(styles);
    sheets.set(styles, sheet);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
}
