/**
 * What the two menus of `<latch-login>` share, the account menu (../chunks/menu.ts) and the menu of
 * providers (../chunks/chooser.ts): their styles and their keys. Each chunk has its own copy.
 */
import type { LatchHost } from '../port.ts';
import { css } from './sheet.ts';

export const menuStyles = css`
  [role='menu'],
  .p {
    box-sizing: border-box;
    position: absolute;
    top: 100%;
    right: 0;
    z-index: 10;
    min-width: 100%;
    margin-top: 0.25em;
    padding: 0.25em;
    border: 1px solid var(--_l);
    border-radius: var(--_r);
    background: var(--_b);
    box-shadow: 0 4px 12px #0003;
  }
  [role='menuitem'] {
    display: flex;
    align-items: center;
    gap: 0.5em;
    width: 100%;
    padding: 0.5em 0.75em;
    border: 0;
    border-radius: var(--_r);
    background: none;
    text-align: start;
  }
  [role='menuitem']:hover {
    background: var(--_l);
  }
`;

/** Each host's way to close its menu (its latest: every render hands a new one). */
const closers = new WeakMap<Element, () => void>();
/** The menus that took focus already (a menu opened again is a new element). */
const focused = new WeakSet<Element>();

/**
 * The menu button's keys (WAI-ARIA's menu button pattern), listened to on `host` once; `close`
 * closes its menu. Escape closes it (or the dialog that took its place) with focus back on the
 * button; Tab closes a menu and goes on from the button (out of the element); ArrowDown and ArrowUp
 * move between the items, round, Home and End to the first and last. Focus leaving the element
 * closes it too. A menu just drawn takes focus on its first item. Opening (Enter, Space, ArrowDown
 * on the button) is the element's own.
 */
export function menuKeys(host: LatchHost, close: () => void): void {
  if (!closers.has(host)) {
    host.addEventListener('keydown', (e) => {
      const root = host.shadowRoot!;
      // The open menu, or the dialog that took its place (the account menu's session panel).
      const open = root.querySelector('[role=menu], [role=dialog]');
      if (!open) return;
      const menu = open.getAttribute('role') == 'menu';
      const items = [...open.querySelectorAll<HTMLElement>('[role=menuitem]')];
      const at = items.indexOf(root.activeElement as HTMLElement);
      const go = (i: number) => {
        e.preventDefault();
        items[(i + items.length) % items.length]?.focus();
      };
      if (e.key == 'Escape' || (menu && e.key == 'Tab')) {
        closers.get(host)!();
        // Back to the button, synchronously: a Tab then goes on from there, out of the element.
        root.querySelector('button')!.focus();
      } else if (!menu) return;
      else if (e.key == 'ArrowDown') go(at + 1);
      else if (e.key == 'ArrowUp') go(at - 1);
      else if (e.key == 'Home') go(0);
      else if (e.key == 'End') go(-1);
    });
    // Focus left the element (a click elsewhere): close. Checked a task later, as Chrome also sends
    // focusout for a focused item that a render removes ("Your sessions" putting the panel in the
    // menu's place), and the render focuses what replaced it before then. (The shadow root's
    // activeElement, not :focus-within, which a window without focus matches nowhere.)
    host.addEventListener('focusout', () => setTimeout(() => host.shadowRoot!.activeElement || closers.get(host)!()));
  }
  closers.set(host, close);
  // Just opened (the menu is a new element, drawn by this render): focus on its first item.
  void host.updateComplete.then(() => {
    const menu = host.shadowRoot!.querySelector('[role=menu]');
    if (menu && !focused.has(menu)) {
      focused.add(menu);
      menu.querySelector<HTMLElement>('[role=menuitem]')?.focus();
    }
  });
}
