/** The es strings as a chunk (dist/latch-es.js): ../i18n/es.ts's table. */
export { default } from '../i18n/es.ts';
