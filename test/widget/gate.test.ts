/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';
import { latch } from '../../widget/index.ts';
import { ADA, BFF, fakeBff, mount, rendered, reset, settle } from './fake-bff.ts';

/** The names of the gate's slotted children that are shown (assigned to its one slot). */
function shown(gate: Element): string[] {
  const slot = gate.shadowRoot!.querySelector('slot')!;
  return slot.assignedElements().map((e) => e.id);
}

const GATE = `
  <latch-gate bff="${BFF}">
    <p id="panel">members</p>
    <p id="anon" slot="anonymous">please sign in</p>
    <p id="wait" slot="loading">…</p>
    <p id="no" slot="forbidden">not for you</p>
  </latch-gate>`;

describe('<latch-gate>', () => {
  beforeEach(reset);
  after(reset);

  it('shows the loading slot until the first answer', async () => {
    const bff = fakeBff({ ...ADA });
    let answer!: () => void;
    bff.hold = new Promise((r) => (answer = r));
    document.body.innerHTML = GATE;
    const gate = document.querySelector('latch-gate')!;
    await gate.updateComplete;
    expect(shown(gate)).to.deep.equal(['wait']);
    answer();
    await settle();
    expect(shown(gate)).to.deep.equal(['panel']);
  });

  it('shows the default slot only when signed in', async () => {
    fakeBff({ ...ADA });
    const gate = await mount(GATE);
    expect(shown(gate)).to.deep.equal(['panel']);
    expect(document.getElementById('panel')!.getBoundingClientRect().height).to.be.greaterThan(0);
    expect(document.getElementById('anon')!.getBoundingClientRect().height).to.equal(0);
  });

  it('shows the anonymous slot when signed out, and switches on sign-out', async () => {
    fakeBff({ ...ADA });
    await mount(GATE);
    const gate = document.querySelector('latch-gate')!;
    expect(shown(gate)).to.deep.equal(['panel']);
    await latch.logout();
    await rendered();
    expect(shown(gate)).to.deep.equal(['anon']);
  });

  it('shows the anonymous slot when the BFF cannot be reached', async () => {
    fakeBff({ ...ADA }).fail = 'network';
    await mount(GATE);
    expect(shown(document.querySelector('latch-gate')!)).to.deep.equal(['anon']);
  });

  it('takes no room of its own (display: contents)', async () => {
    fakeBff();
    await mount(GATE);
    expect(getComputedStyle(document.querySelector('latch-gate')!).display).to.equal('contents');
  });

  describe('claim', () => {
    const cases: [string, boolean][] = [
      ['email_verified', true],
      ['org_id=acme', true],
      ['org_id=globex', false],
      ['roles=admin', true],
      ['roles=owner', false],
      ['email_verified org_id=acme', true],
      ['email_verified org_id=globex', false],
      ['missing_claim', false],
    ];
    for (const [claim, ok] of cases) {
      it(`claim="${claim}" shows ${ok ? 'the default slot' : 'the forbidden slot'} to a signed-in user`, async () => {
        fakeBff({ ...ADA });
        await mount(GATE.replace('<latch-gate', `<latch-gate claim="${claim}"`));
        expect(shown(document.querySelector('latch-gate')!)).to.deep.equal([ok ? 'panel' : 'no']);
      });
    }

    it('treats a claim of false (or "false") as unmet', async () => {
      fakeBff({ ...ADA, email_verified: false, beta: 'false' });
      await mount(`${GATE.replace('<latch-gate', '<latch-gate claim="email_verified"')}`);
      expect(shown(document.querySelector('latch-gate')!)).to.deep.equal(['no']);
    });

    it('re-evaluates when the claim attribute changes', async () => {
      fakeBff({ ...ADA });
      await mount(GATE.replace('<latch-gate', '<latch-gate claim="org_id=globex"'));
      const gate = document.querySelector('latch-gate')!;
      expect(shown(gate)).to.deep.equal(['no']);
      gate.setAttribute('claim', 'org_id=acme');
      await rendered();
      expect(shown(gate)).to.deep.equal(['panel']);
    });

    it('shows the anonymous slot, not forbidden, when signed out', async () => {
      fakeBff();
      await mount(GATE.replace('<latch-gate', '<latch-gate claim="org_id=acme"'));
      expect(shown(document.querySelector('latch-gate')!)).to.deep.equal(['anon']);
    });
  });
});

/** The text a reader sees in `p`: <latch-user>'s own text, or its light DOM where its slot shows. */
function seen(p: Element): string {
  return [...p.childNodes]
    .map((n) => {
      const root = (n as Element).shadowRoot;
      if (!root) return n.textContent;
      return root.querySelector('slot') ? n.textContent : root.textContent;
    })
    .join('');
}

describe('<latch-user>', () => {
  beforeEach(reset);
  after(reset);

  it('renders the name by default, and any claim by field', async () => {
    fakeBff({ ...ADA });
    await mount(
      `<p><latch-user bff="${BFF}"></latch-user> · <latch-user field="email"></latch-user> · <latch-user field="org_id"></latch-user></p>`,
    );
    expect(seen(document.querySelector('p')!)).to.equal('Ada Lovelace · ada@example.com · acme');
  });

  it('shows its fallback content while signed out or when the claim is absent', async () => {
    fakeBff();
    await mount(`<p>Hello, <latch-user bff="${BFF}">guest</latch-user>!</p>`);
    expect(seen(document.querySelector('p')!)).to.equal('Hello, guest!');
  });

  it('follows the session and the field attribute', async () => {
    const bff = fakeBff();
    await mount(`<p><latch-user bff="${BFF}" field="given_name">there</latch-user></p>`);
    const p = document.querySelector('p')!;
    expect(seen(p)).to.equal('there');
    bff.user = { ...ADA, given_name: 'Ada' };
    await latch.refresh();
    await rendered();
    expect(seen(p)).to.equal('Ada');
    p.firstElementChild!.setAttribute('field', 'sub');
    await rendered();
    expect(seen(p)).to.equal('user-1');
  });

  it('renders claims as text, never as HTML', async () => {
    fakeBff({ ...ADA, name: '<img src=x onerror=alert(1)>' });
    await mount(`<p><latch-user bff="${BFF}"></latch-user></p>`);
    const user = document.querySelector('latch-user')!;
    expect(user.shadowRoot!.querySelector('img')).to.equal(null);
    expect(seen(document.querySelector('p')!)).to.equal('<img src=x onerror=alert(1)>');
  });
});
