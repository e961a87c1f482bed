/** The fr strings as a chunk (dist/latch-fr.js): ../i18n/fr.ts's table. */
export { default } from '../i18n/fr.ts';
