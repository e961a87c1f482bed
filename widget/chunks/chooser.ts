/**
 * The menu of providers: with several (`GET /providers`) and no `provider` attribute, "Sign in"
 * is a menu button, and this is its menu, one item a provider in the BFF's order, with its label
 * and icon (the page's, from `latch.configure({ providers })`, over the BFF's). Choosing one signs in
 * with it, as the element's attributes say (`/login?provider=<name>`).
 *
 * Not in the bundle (dist/latch-chooser.js, loaded the first time "Sign in" finds several providers:
 * focus stays on "Sign in" meanwhile). Keys: ../elements/menu.ts. The menu is named "Choose how to
 * sign in"; an icon is decoration (`alt=""`), the label is the item's name.
 */
import type { LatchProvider } from '../../bff/contract.ts';
import { chooser as words } from '../i18n/en.ts';
import { withWords } from '../i18n/index.ts';
import { menuKeys, menuStyles } from '../elements/menu.ts';
import { optionsOf } from '../elements/options.ts';
import { adopt, css } from '../elements/sheet.ts';
import type { LatchView } from '../port.ts';

const styles = css`
  [part='icon'] {
    width: 1.25em;
    height: 1.25em;
    object-fit: contain;
  }
`;

/** Icons only from https or data:image URLs (the contract's), whoever names them. */
const ICON = /^(https:|data:image\/)/i;

const view: LatchView = ({ html, config, page, login }, host, t, done) => {
  adopt(host, menuStyles + styles);
  menuKeys(host, done);
  const w = withWords(t, words);
  const providers = ((page['providers'] ?? []) as LatchProvider[]).map((p) => ({ ...p, ...config.providers?.[p.name] }));
  return html`<div part="menu" role="menu" aria-label=${w.chooseProvider}>
    ${providers.map(
      ({ name, label, icon }) => html`<button
        part="menu-item"
        role="menuitem"
        tabindex="-1"
        @click=${() => (done(), login({ ...optionsOf(host), provider: name }, host))}
      >
        ${icon && ICON.test(icon) ? html`<img part="icon" src=${icon} alt="" referrerpolicy="no-referrer">` : ''}${label || name}
      </button>`,
    )}
  </div>`;
};

export default view;
