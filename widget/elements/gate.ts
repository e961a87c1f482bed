import { html, type PropertyDeclarations, type TemplateResult } from 'lit';
import type { LatchUser } from '../../bff/contract.ts';
import { state } from '../client/session.ts';
import { LatchElement } from './base.ts';
import { css } from './css.ts';

/** True when `user` meets every requirement in `claim` (space-separated `name` or `name=value`). */
export const meets = (user: LatchUser, claim: string | null): boolean =>
  !claim ||
  claim.split(/\s+/).every((req) => {
    const [name = '', want] = req.split('=');
    const v = user[name];
    return want == null ? !!v && v !== 'false' : ([] as unknown[]).concat(v).map(String).includes(want);
  });

/**
 * Shows content by sign-in state. It is for the page's look only: data must
 * come from APIs that check the session (through the BFF), never from what a
 * gate hides.
 *
 * @tagname latch-gate
 * @summary Shows its default slot only to signed-in users.
 * @attr {string} bff - The BFF's base URL, if no other Latch element or `latch.configure()` gives it.
 * @attr {string} claim - Optional requirement(s), space-separated: `email_verified` (claim is truthy) or `org_id=acme` (claim equals, or an array claim contains, the value).
 * @slot - Shown when signed in (and the claim requirement is met).
 * @slot anonymous - Shown when signed out, while signing in, or when the session cannot be checked.
 * @slot forbidden - Shown to signed-in users who do not meet `claim`.
 * @slot loading - Shown until the first answer from the BFF.
 */
export class LatchGateElement extends LatchElement {
  static override properties: PropertyDeclarations = { claim: {} };
  declare claim: string | null;

  static override styles = css`:host { display: contents; }`;

  override render(): TemplateResult {
    const { status, user } = state;
    const name =
      status == 'loading'
        ? 'loading'
        : status != 'signed-in' || !user
          ? 'anonymous'
          : meets(user, this.claim)
            ? ''
            : 'forbidden';
    return html`<slot name=${name}></slot>`;
  }
}
