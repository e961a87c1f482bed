/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { define } from '../../widget/define.ts';
import { latch, LatchGateElement, LatchLoginElement, LatchUserElement } from '../../widget/index.ts';
import { VERSION } from '../../widget/version.ts';

describe('define()', () => {
  it('defines the elements when the module loads', () => {
    expect(customElements.get('latch-login')).to.equal(LatchLoginElement);
    expect(customElements.get('latch-gate')).to.equal(LatchGateElement);
    expect(customElements.get('latch-user')).to.equal(LatchUserElement);
    expect(document.createElement('latch-login')).to.be.instanceOf(LatchLoginElement);
  });

  it('leaves a tag that is already defined, without throwing', () => {
    class Copy extends HTMLElement {}
    expect(() => define('latch-login', Copy)).not.to.throw();
    expect(customElements.get('latch-login')).to.equal(LatchLoginElement);
  });
});

describe('a second copy of another version', () => {
  const warnings: unknown[][] = [];
  const realWarn = console.warn;
  const g = globalThis as { __latch?: unknown; latch?: unknown };
  let first: unknown;
  before(() => {
    first = g.__latch;
    console.warn = (...args: unknown[]) => void warnings.push(args);
  });
  after(() => {
    console.warn = realWarn;
    g.__latch = g.latch = first;
  });

  it('uses the first copy\'s API, and warns once', async () => {
    const older = { ...latch, version: '0.0.1' };
    g.__latch = older;
    // The same module under another URL is a second copy of the widget on this page.
    const copy = (await import(/* @vite-ignore */ `../../widget/index.ts?copy=${Date.now()}`)) as typeof import('../../widget/index.ts');
    expect(copy.latch).to.equal(older);
    expect(warnings).to.have.length(1);
    expect(String(warnings[0]![0])).to.contain('0.0.1').and.contain(VERSION);
    expect(customElements.get('latch-login')).to.equal(LatchLoginElement);
  });
});
