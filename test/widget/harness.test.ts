/// <reference types="mocha" />
// Sanity check of the component-test harness: TypeScript with Lit decorators compiles in the
// browser, bare imports resolve, and a custom element renders into its shadow root.
import { expect } from '@esm-bundle/chai';
import { LitElement, html } from 'lit';
import { property } from 'lit/decorators.js';

class LatchHarnessProbe extends LitElement {
  @property() name = 'world';

  override render() {
    return html`<p part="greeting">Hello, ${this.name}!</p>`;
  }
}
customElements.define('latch-harness-probe', LatchHarnessProbe);

describe('component test harness', () => {
  let el: LatchHarnessProbe;

  beforeEach(async () => {
    el = document.createElement('latch-harness-probe') as LatchHarnessProbe;
    document.body.append(el);
    await el.updateComplete;
  });

  afterEach(() => el.remove());

  it('renders a custom element into its shadow root', () => {
    expect(el.shadowRoot?.querySelector('[part="greeting"]')?.textContent).to.equal('Hello, world!');
  });

  it('re-renders when a decorated property changes', async () => {
    el.name = 'Latch';
    await el.updateComplete;
    expect(el.shadowRoot?.textContent).to.contain('Hello, Latch!');
  });
});
