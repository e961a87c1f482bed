/**
 * Languages. English is built in (the words of the bundle's own states; each chunk brings the
 * English words of what it shows, see en.ts); de, fr and es are chunks (`../chunks/de.ts`, in the
 * build `dist/latch-de.js`, ...) imported only when an element's `lang`, or the page's
 * `<html lang>`, asks for them, with every word of every chunk. Any string can be overridden from JS
 * with `latch.configure({ strings: { en: { signIn: 'Log in' } } })`.
 */
import { lazy } from '../lazy.ts';
import { en, type LatchStrings } from './en.ts';

export type { LatchStrings };

/** Per-language overrides: `{ de: { signIn: 'Einloggen' } }`. */
export type LatchStringOverrides = Record<string, Partial<LatchStrings>>;

/** What `latch.configure({ strings })` set, by language (the password form reads it too). */
export const overrides: LatchStringOverrides = {};

/** The languages that come as chunks (`../chunks/de.ts`, `latch-de.js` beside the built bundle). */
const CHUNKS = /^(de|fr|es)$/;

export function overrideStrings(more: LatchStringOverrides = {}): void {
  for (const l in more) overrides[l] = { ...overrides[l], ...more[l] };
}

/** The language that applies to `el`: its own or nearest `lang`, else `<html lang>`; primary subtag. */
export const langOf = (el: Element): string =>
  ((el.closest('[lang]') as HTMLElement | null)?.lang || document.documentElement.lang)
    .slice(0, 2)
    .toLowerCase();

/**
 * The strings for `lang`, or undefined while its chunk loads; `ready` runs when
 * it has. A chunk that fails to load (null) leaves English in place.
 */
export function strings(lang: string, ready: () => void): LatchStrings | undefined {
  const table = CHUNKS.test(lang) ? lazy<Partial<LatchStrings>>(lang, ready) : null;
  if (table !== undefined) return { ...en, ...overrides.en, ...table, ...overrides[lang] } as LatchStrings;
}

/**
 * For a chunk that does not draw (../chunks/start.ts): adds its English words (a table of ./en.ts)
 * to the bundle's table, where it has none for them yet, and re-renders the elements.
 */
export function addWords(table: Record<string, string>, port: { en: object; update(): void }): void {
  Object.assign(port.en, { ...table, ...port.en });
  port.update();
}

/**
 * For a chunk that draws, during a render: its English words in the render's table `t`, where the
 * element's language (or an override) has none. The same `t` then serves the rest of the render
 * (the live region's words included).
 */
export const withWords = <T extends Record<string, string>>(t: LatchStrings, table: T): LatchStrings & T =>
  Object.assign(t, { ...table, ...t });
