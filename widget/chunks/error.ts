/**
 * `<latch-login>`'s error state: the error's words, and Retry. After a failed sign-in (source
 * `callback`) Retry signs in again; after a failed call to the BFF (source `bff`) it asks `/me`.
 *
 * Not in the bundle (dist/latch-error.js, loaded at the first error): the element shows its loading
 * placeholder meanwhile, and its "Sign in" button if the file cannot be loaded. It brings the English
 * words of failures (../i18n/en.ts's `failure`).
 */
import { failure } from '../i18n/en.ts';
import { withWords } from '../i18n/index.ts';
import { optionsOf } from '../elements/options.ts';
import { adopt, css } from '../elements/sheet.ts';
import type { LatchView } from '../port.ts';

const styles = css`
  .e {
    padding: 0.25em 0.5em;
    border-radius: var(--_r);
    background: var(--_b);
    color: var(--_e);
  }
`;

const error: LatchView = ({ html, state, login, set, refresh }, host, t) => {
  adopt(host, styles);
  const w = withWords(t, failure);
  const retry = (): Promise<void> => {
    if (state.error?.source == 'callback') return login(optionsOf(host), host);
    set({ status: 'loading', error: null });
    return refresh();
  };
  return html`<span class="e" part="error">${state.error && (w[state.error.code] || w.error)}</span>
    <button class="b" part="button" @click=${retry}>${w.retry}</button>`;
};

export default error;
