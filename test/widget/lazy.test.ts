/// <reference types="mocha" />
// load() and lazy() (widget/lazy.ts): how the widget gets its chunks (widget/chunks/*.ts here, in the
// build dist/latch-<name>.js), and how a render gets one it cannot wait for. Their callers'
// fallbacks rest on them: undefined shows the placeholder, null (a chunk that cannot be loaded)
// English, the "Sign in" button...
import { expect } from '@esm-bundle/chai';
import { lazy, load } from '../../widget/lazy.ts';

/** How often the page fetched chunk `name`'s module. */
const fetches = (name: string) =>
  performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.endsWith(`/widget/chunks/${name}.ts`)).length;

describe('chunks', () => {
  it('lazy() is undefined while the chunk loads, loads it once however many ask, and calls every ready once it is there', async () => {
    const ready: string[] = [];
    expect(lazy('es', () => ready.push('a'))).to.equal(undefined);
    expect(lazy('es', () => ready.push('b'))).to.equal(undefined);
    expect(ready).to.deep.equal([]);
    await load('es');
    await new Promise((done) => setTimeout(done));
    expect(ready).to.deep.equal(['a', 'b']);
    const table = lazy<Record<string, string>>('es', () => ready.push('c'));
    expect(table!['signIn']).to.equal('Iniciar sesión');
    expect(ready).to.deep.equal(['a', 'b'], 'no ready once loaded');
    expect(fetches('es')).to.equal(1);
  });

  it('load() gives the same default export to every caller', async () => {
    const [a, b] = await Promise.all([load('popup'), load('popup')]);
    expect(a).to.be.a('function');
    expect(b).to.equal(a);
    expect(fetches('popup')).to.equal(1);
  });

  it('a chunk that cannot be loaded: load() rejects, lazy() is null after its one ready, and nothing tries again', async () => {
    let ready = 0;
    expect(lazy('no-such-chunk', () => ready++)).to.equal(undefined);
    const failure = await load('no-such-chunk').then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).to.be.instanceOf(Error);
    await new Promise((done) => setTimeout(done));
    expect(ready).to.equal(1);
    expect(lazy('no-such-chunk', () => ready++)).to.equal(null);
    await load('no-such-chunk').catch(() => {});
    expect(fetches('no-such-chunk')).to.be.at.most(1);
    expect(ready).to.equal(1);
  });
});
