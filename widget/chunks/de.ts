/** The de strings as a chunk (dist/latch-de.js): ../i18n/de.ts's table. */
export { default } from '../i18n/de.ts';
