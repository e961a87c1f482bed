import { LitElement, type PropertyDeclarations } from 'lit';
import { attach, detach } from '../client/session.ts';
import { langOf, strings, type LatchStrings } from '../i18n/index.ts';

/**
 * What all Latch elements share: they subscribe to the one session while
 * connected (re-rendering on every change), and find their strings by `lang`.
 */
export class LatchElement extends LitElement {
  // `lang` is observed under another name, so the native `lang` property stays as it is.
  static override properties: PropertyDeclarations = { _lang: { attribute: 'lang' } };

  override connectedCallback(): void {
    super.connectedCallback();
    attach(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    detach(this);
  }

  /** This element's strings; undefined while its language's chunk loads. */
  protected _strings(): LatchStrings | undefined {
    return strings(langOf(this), () => this.requestUpdate());
  }
}
