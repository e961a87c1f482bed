/**
 * Languages. English is built in; de, fr and es are separate chunks
 * (`dist/latch-de.js`, ...) imported only when an element's `lang`, or the
 * page's `<html lang>`, asks for them. Any string can be overridden from JS
 * with `latch.configure({ strings: { en: { signIn: 'Log in' } } })`.
 */
import { lazy } from '../lazy.ts';
import { en, type LatchStrings } from './en.ts';

export type { LatchStrings };

/** Per-language overrides: `{ de: { signIn: 'Einloggen' } }`. */
export type LatchStringOverrides = Record<string, Partial<LatchStrings>>;

/** What `latch.configure({ strings })` set, by language (the password form reads it too). */
export const overrides: LatchStringOverrides = {};

/** The languages that come as chunks: `./de.ts` here, `./latch-de.js` beside the built bundle. */
const CHUNKS = /^(de|fr|es)$/;
const chunk = (lang: string): Promise<{ default: Partial<LatchStrings> }> =>
  import(/* @vite-ignore */ `./${lang}.ts`);

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
  const table = CHUNKS.test(lang) ? lazy(lang, () => chunk(lang), ready) : null;
  if (table !== undefined) return { ...en, ...overrides.en, ...table, ...overrides[lang] } as LatchStrings;
}
