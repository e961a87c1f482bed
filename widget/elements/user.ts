import { html, type PropertyDeclarations, type TemplateResult } from 'lit';
import { state } from '../client/session.ts';
import { LatchElement } from './base.ts';

/**
 * Renders one claim of the signed-in user as text, so pages need no script for
 * the common case: `Hello, <latch-user field="given_name">there</latch-user>`.
 *
 * @tagname latch-user
 * @summary One claim of the signed-in user, as text.
 * @attr {string} bff - The BFF's base URL, if no other Latch element or `latch.configure()` gives it.
 * @attr {string} field - The claim to show (default `name`): `email`, `given_name`, `org_id`...
 * @slot - Fallback content, shown while no user is signed in or the claim is absent.
 */
export class LatchUserElement extends LatchElement {
  static override properties: PropertyDeclarations = { field: {} };
  declare field: string | undefined;

  override render(): TemplateResult | string {
    const v = state.user?.[this.field || 'name'];
    return v == null ? html`<slot></slot>` : String(v);
  }
}
