/**
 * Defines a custom element once: a second copy of the bundle on the same page
 * finds the tag taken and leaves it (the first copy's elements and session stay
 * in charge; index.ts warns if that copy is another version).
 */
export function define(tag: string, ctor: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, ctor);
}
