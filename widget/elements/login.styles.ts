import { css } from 'lit';

/**
 * Internal custom properties (`--_*`) take the public `--latch-*` ones, with
 * light defaults, and dark defaults under `prefers-color-scheme: dark`.
 */
export const styles = css`
  :host {
    --_accent: var(--latch-accent, #1d4ed8);
    --_on-accent: var(--latch-on-accent, #fff);
    --_bg: var(--latch-bg, #fff);
    --_fg: var(--latch-fg, #111827);
    --_border: var(--latch-border, #d1d5db);
    --_error: var(--latch-error, #b91c1c);
    --_radius: var(--latch-radius, 6px);
    display: inline-flex;
    align-items: center;
    gap: 0.5em;
    position: relative;
    vertical-align: middle;
    font: 1em / 1.2 var(--latch-font, system-ui, sans-serif);
    color: var(--_fg);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_accent: var(--latch-accent, #93c5fd);
      --_on-accent: var(--latch-on-accent, #0b1220);
      --_bg: var(--latch-bg, #1f2937);
      --_fg: var(--latch-fg, #f9fafb);
      --_border: var(--latch-border, #4b5563);
      --_error: var(--latch-error, #fca5a5);
    }
  }
  .b {
    box-sizing: border-box;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.5em;
    height: 2.5em;
    min-width: 6em;
    padding: 0 1em;
    border: 1px solid var(--_accent);
    border-radius: var(--_radius);
    background: var(--_accent);
    color: var(--_on-accent);
    font: inherit;
    font-weight: 600;
    white-space: nowrap;
    cursor: pointer;
  }
  .b[disabled] {
    cursor: progress;
    opacity: 0.7;
  }
  .m {
    padding-left: 0.25em;
    border-color: var(--_border);
    background: var(--_bg);
    color: var(--_fg);
    font-weight: 400;
  }
  .s {
    border-color: transparent;
    background: var(--_border);
    opacity: 0.4;
  }
  .a {
    display: inline-grid;
    place-items: center;
    width: 1.9em;
    height: 1.9em;
    border-radius: 50%;
    object-fit: cover;
    background: var(--_accent);
    color: var(--_on-accent);
  }
  [role='menu'] {
    position: absolute;
    top: 100%;
    right: 0;
    z-index: 10;
    box-sizing: border-box;
    min-width: 100%;
    margin-top: 0.25em;
    padding: 0.25em;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    box-shadow: 0 4px 12px #0003;
  }
  [role='menuitem'] {
    display: block;
    width: 100%;
    padding: 0.5em 0.75em;
    border: 0;
    border-radius: var(--_radius);
    background: none;
    color: inherit;
    font: inherit;
    text-align: start;
    white-space: nowrap;
    cursor: pointer;
  }
  [role='menuitem']:hover {
    background: var(--_border);
  }
  :focus-visible {
    outline: 2px solid var(--latch-focus, var(--_accent));
    outline-offset: 2px;
  }
  .e {
    padding: 0.25em 0.5em;
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_error);
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
