import { VERSION } from './version.ts';

const registry = globalThis as { __latchWarned?: boolean };

/**
 * Defines a custom element once. A second copy of the bundle on the same page
 * finds the tag taken and leaves it; if that copy is another version it warns,
 * once per page.
 */
export function define(tag: string, ctor: CustomElementConstructor & { version?: string }): void {
  const existing = customElements.get(tag) as { version?: string } | undefined;
  if (!existing) customElements.define(tag, ctor);
  else if (existing.version != VERSION && !registry.__latchWarned) {
    registry.__latchWarned = true;
    console.warn(`latch: <${tag}> is defined by version ${existing.version}; version ${VERSION} is not used.`);
  }
}
