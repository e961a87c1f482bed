/// <reference types="mocha" />
// lazy() (widget/lazy.ts): how a render gets a chunk it cannot wait for, a language's strings or the
// password form. Its callers' fallbacks rest on it: undefined shows the placeholder, null (a chunk
// that cannot be loaded) English or the "Sign in" button.
import { expect } from '@esm-bundle/chai';
import { lazy } from '../../widget/lazy.ts';

/** A chunk whose load the test ends, counting the loads. */
function chunk<T>() {
  let end!: (ok: boolean) => void;
  const loads: number[] = [];
  const settled = new Promise<boolean>((done) => (end = done));
  const load = () => {
    loads.push(Date.now());
    return settled.then((ok) => (ok ? { default: 'the chunk' as T } : Promise.reject(new TypeError('Failed to fetch'))));
  };
  return { load, loads, end };
}

describe('lazy()', () => {
  let n = 0;
  const name = () => `test-chunk-${++n}`;

  it('is undefined while the chunk loads, loads it once however many ask, and calls every ready once it is there', async () => {
    const key = name();
    const c = chunk<string>();
    const ready: string[] = [];
    expect(lazy(key, c.load, () => ready.push('a'))).to.equal(undefined);
    expect(lazy(key, c.load, () => ready.push('b'))).to.equal(undefined);
    expect(c.loads).to.have.length(1);
    expect(ready).to.deep.equal([]);
    c.end(true);
    await new Promise((done) => setTimeout(done));
    expect(ready).to.deep.equal(['a', 'b']);
    expect(lazy(key, c.load, () => ready.push('c'))).to.equal('the chunk');
    expect(c.loads).to.have.length(1);
    expect(ready).to.deep.equal(['a', 'b'], 'no ready once loaded');
  });

  it('is null for a chunk that cannot be loaded, and does not try again', async () => {
    const key = name();
    const c = chunk<string>();
    let ready = 0;
    expect(lazy(key, c.load, () => ready++)).to.equal(undefined);
    c.end(false);
    await new Promise((done) => setTimeout(done));
    expect(ready).to.equal(1);
    expect(lazy(key, c.load, () => ready++)).to.equal(null);
    expect(c.loads).to.have.length(1);
  });

  it('keeps chunks apart by name', async () => {
    const [a, b] = [chunk<string>(), chunk<string>()];
    const [ka, kb] = [name(), name()];
    lazy(ka, a.load, () => {});
    lazy(kb, b.load, () => {});
    a.end(true);
    b.end(false);
    await new Promise((done) => setTimeout(done));
    expect(lazy(ka, a.load, () => {})).to.equal('the chunk');
    expect(lazy(kb, b.load, () => {})).to.equal(null);
  });
});
