/// <reference types="mocha" />
// A call to the BFF that gets no answer: the BFF down (LATCH_UNREACHABLE) told apart from the BFF up
// but refusing the page's origin (LATCH_ORIGIN_NOT_ALLOWED), by widget/chunks/diagnose.ts, which
// the session loads only then (dist/latch-diagnose.js in the build).
import { expect } from '@esm-bundle/chai';
import { state } from '../../widget/client/session.ts';
import { latch } from '../../widget/index.ts';
import { builtApart } from './built.ts';
import { $, ADA, BFF, fakeBff, mount, record, reset, settle, shown, until } from './fake-bff.ts';

/** Imports of the diagnosis module (here its source; in the build, latch-diagnose.js). */
const diagnosisLoads = () =>
  (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) =>
    /\/widget\/chunks\/diagnose\.ts$/.test(new URL(e.name).pathname),
  );

/** console.error, recorded while `run` runs. */
async function consoleErrors(run: () => Promise<unknown>): Promise<string[]> {
  const said: string[] = [];
  const real = console.error;
  console.error = (...args: unknown[]) => void said.push(args.map(String).join(' '));
  try {
    await run();
  } finally {
    console.error = real;
  }
  return said;
}

describe('a call to the BFF that gets no answer', () => {
  beforeEach(reset);
  after(reset);

  // First in this file: the module, once loaded, stays loaded for the page.
  it('loads no diagnosis while the BFF answers, signed out or with an error', async () => {
    const bff = fakeBff();
    await mount(`<latch-login bff="${BFF}"></latch-login>`);
    expect(state.status).to.equal('signed-out');
    bff.fail = 503;
    await latch.refresh();
    expect(state.error).to.deep.equal({ code: 'LATCH_UPSTREAM_UNAVAILABLE', source: 'bff' });
    expect(bff.callsTo('/healthz')).to.have.length(0);
    expect(diagnosisLoads()).to.have.length(0);
  });

  it('says the site is not allowed when the BFF is up but refuses the origin, and names LATCH_ALLOWED_ORIGINS and the origin in the console', async () => {
    const bff = fakeBff({ ...ADA });
    bff.fail = 'cors';
    const errors = record('latch-error');
    let el!: HTMLElement;
    const said = await consoleErrors(async () => {
      el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    });
    expect(state.error).to.deep.equal({ code: 'LATCH_ORIGIN_NOT_ALLOWED', source: 'bff' });
    expect((await shown(el, '[part=error]')).textContent).to.equal('This site is not allowed by the sign-in service.');
    // One error, the diagnosed one: no LATCH_UNREACHABLE shown (or announced) first.
    expect(errors.map((e) => e.detail.code)).to.deep.equal(['LATCH_ORIGIN_NOT_ALLOWED']);
    expect(said).to.have.length(1);
    expect(said[0]).to.contain('LATCH_ALLOWED_ORIGINS');
    expect(said[0]).to.contain(`Add ${location.origin} to`);
    expect(said[0]).to.contain(BFF);
    expect(diagnosisLoads()).to.have.length(1);
    // Both probes: the opaque one answered, the CORS one (without cookies) did not.
    const probes = bff.callsTo('/healthz');
    expect(probes.map((c) => c.credentials)).to.deep.equal(['omit', 'omit']);

    // Fixed (the origin added): Retry signs in.
    bff.fail = null;
    $(el, 'button')!.click();
    await settle('signed-in');
  });

  it("says it in the page's language", async () => {
    document.documentElement.lang = 'de';
    const bff = fakeBff();
    bff.fail = 'cors';
    await consoleErrors(async () => {
      const el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
      await until(() => $(el, '[part=error]')?.textContent == 'Diese Website ist für den Anmeldedienst nicht freigegeben.', 'the German words');
    });
  });

  it('stays "cannot be reached", with nothing in the console, when nothing answers', async () => {
    const bff = fakeBff();
    bff.fail = 'network';
    let el!: HTMLElement;
    const said = await consoleErrors(async () => {
      el = await mount(`<latch-login bff="${BFF}"></latch-login>`);
    });
    expect(state.error).to.deep.equal({ code: 'LATCH_UNREACHABLE', source: 'bff' });
    expect($(el, '[part=error]')!.textContent).to.equal('The sign-in service cannot be reached.');
    expect(said).to.deep.equal([]);
    expect(bff.callsTo('/healthz')).to.have.length(1);
  });

  it('stays "cannot be reached" when the BFF allows the origin and the call failed otherwise (a timeout)', async () => {
    const bff = fakeBff();
    latch.configure({ timeout: 150 });
    // /me hangs until the widget's timeout; /healthz answers, to CORS too: the origin is allowed.
    const answering = window.fetch;
    window.fetch = (input, init = {}) =>
      String(input).startsWith(`${BFF}/me`)
        ? new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal!.reason)))
        : answering(input, init);
    const said = await consoleErrors(() => mount(`<latch-login bff="${BFF}"></latch-login>`));
    expect(state.error).to.deep.equal({ code: 'LATCH_UNREACHABLE', source: 'bff' });
    expect(bff.callsTo('/healthz')).to.have.length(2);
    expect(said).to.deep.equal([]);
  });

  it('latch.me() rejects with the diagnosed code', async () => {
    const bff = fakeBff();
    bff.fail = 'cors';
    latch.configure({ bff: BFF });
    let code: string | null | undefined;
    await consoleErrors(async () => {
      code = await latch.me().then(
        () => null,
        (e: { code?: string }) => e.code,
      );
    });
    expect(code).to.equal('LATCH_ORIGIN_NOT_ALLOWED');
  });
});

describe('the diagnosis in the built files', () => {
  builtApart('diagnose', ['LATCH_ALLOWED_ORIGINS', 'no-cors', 'This site is not allowed by the sign-in service.', 'Only the site owner can fix this.']);
});
