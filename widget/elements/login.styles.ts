import { css } from './css.ts';

/**
 * Private custom properties take the public `--latch-*` ones, with light
 * defaults, and dark defaults under `prefers-color-scheme: dark`:
 * --_a accent, --_o text on accent, --_b background, --_f text,
 * --_l lines (borders, placeholder, hover), --_e error, --_r radius.
 * Only what the bundle draws itself is here: the chunks that draw more (the
 * menus, the panel, the error, the warning, the form) add their own sheets
 * (./sheet.ts), on these properties.
 */
export const styles = css`
  :host {
    --_a: var(--latch-accent, #1d4ed8);
    --_o: var(--latch-on-accent, #fff);
    --_b: var(--latch-bg, #fff);
    --_f: var(--latch-fg, #111827);
    --_l: var(--latch-border, #d1d5db);
    --_e: var(--latch-error, #b91c1c);
    --_r: var(--latch-radius, 6px);
    display: inline-flex;
    align-items: center;
    gap: 0.5em;
    position: relative;
    font: 1em/1.2 var(--latch-font, system-ui, sans-serif);
    color: var(--_f);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_a: var(--latch-accent, #93c5fd);
      --_o: var(--latch-on-accent, #0b1220);
      --_b: var(--latch-bg, #1f2937);
      --_f: var(--latch-fg, #f9fafb);
      --_l: var(--latch-border, #4b5563);
      --_e: var(--latch-error, #fca5a5);
    }
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    white-space: nowrap;
  }
  .b {
    box-sizing: border-box;
    display: inline-flex;
    align-items: center;
    gap: 0.5em;
    height: 2.5em;
    padding: 0 1em;
    border: 1px solid var(--_a);
    border-radius: var(--_r);
    background: var(--_a);
    color: var(--_o);
    font-weight: 600;
  }
  [disabled] {
    cursor: progress;
    opacity: 0.7;
  }
  .m {
    padding-left: 0.25em;
    border-color: var(--_l);
    background: var(--_b);
    color: var(--_f);
    font-weight: 400;
  }
  .s {
    border-color: transparent;
    background: var(--_l);
    opacity: 0.4;
  }
  .s i {
    visibility: hidden;
  }
  .a {
    display: inline-grid;
    place-items: center;
    width: 1.9em;
    height: 1.9em;
    border-radius: 50%;
    object-fit: cover;
    background: var(--_a);
    color: var(--_o);
  }
  /* Why the session ended: on the element's own background, as the error and the warning are, so
     that its colour contrasts in either scheme whatever the page's background (axe, WCAG 1.4.3). */
  [part='reason'] {
    padding: 0.25em 0.5em;
    border-radius: var(--_r);
    background: var(--_b);
  }
  :focus-visible {
    outline: 2px solid var(--latch-focus, var(--_a));
    outline-offset: 2px;
  }
  .r {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
