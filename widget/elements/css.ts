import { unsafeCSS, type CSSResult } from 'lit';

/**
 * The widget's `css` tag: Lit's `css` for a plain literal, with no `${}` in it (the types refuse
 * one). It makes the same stylesheet through `unsafeCSS()`, which is safe here as nothing is
 * interpolated, and keeps Lit's `css` out of the bundle: its check of interpolated values,
 * with a long error message, costs brotli bytes of the 9 KB budget (vite.config.ts's
 * template minifier squeezes the literal as before).
 */
export const css = (strings: TemplateStringsArray, ...none: never[]): CSSResult => unsafeCSS(strings.join(''));
