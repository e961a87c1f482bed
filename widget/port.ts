/**
 * What the bundle hands its lazily loaded chunks: the password form (elements/password.ts), the
 * hand-off (client/handoff.ts) and the diagnosis (client/diagnose.ts). Each is built into a file
 * of its own (dist/latch-password.js, ...) that the bundle imports from beside itself on demand,
 * and that file must import nothing (vite.config.ts fails the build if it does): a chunk that
 * imported latch.js would be a second Lit and a second session under a classic script. So each
 * chunk's default export takes this one object, `port`, first, and finds there what must be the
 * bundle's own: its one Lit, its one session, its string tables. Plain functions (`emit`,
 * `request`, `langOf`, the popup's `wait`) a chunk imports from their source like any module,
 * and the build copies them into it; the main bundle does not pay for their names. The language
 * chunks (latch-de.js, ...) are data and take nothing.
 */
import type { html } from 'lit';
import type { MeResponse } from '../bff/contract.ts';
import type { LatchError } from './client/bff.ts';
import type { LatchConfig, LatchErrorInfo } from './client/session.ts';
import type { en } from './i18n/en.ts';
import type { LatchStringOverrides } from './i18n/index.ts';

export interface LatchPort {
  /** Lit's `html`, so that a chunk's templates render through the bundle's one Lit. */
  html: typeof html;
  /** The session's configuration: the BFF's URL, the timeout of calls to it. */
  config: Required<LatchConfig>;
  /** The English table, to which a chunk adds the words of codes only it produces (every language file has its own). */
  en: typeof en;
  /** `latch.configure({ strings })`'s overrides, by language. */
  overrides: LatchStringOverrides;
  /**
   * Ends a sign-in in the error state: `callback` (the default) for a failed sign-in, whose Retry
   * signs in again; `bff` for a failed call to the BFF, whose Retry asks `/me`.
   */
  failed(code: string, source?: LatchErrorInfo['source']): void;
  /**
   * Ends in the error state for a failed call to the BFF (source `bff`), through the diagnosis
   * (client/diagnose.ts) when the failure is the deployment's: no answer, or
   * LATCH_THIRD_PARTY_COOKIES_BLOCKED (whose `message` goes to the console).
   */
  fail(e: LatchError): void | Promise<void>;
  /**
   * A sign-in that ended on this page with the BFF's answer, like `/me`'s: signed in here,
   * `latch-login` from `from` (else from the element that started it), and the other tabs told.
   */
  signedIn(me: MeResponse, from?: Element): void;
  /** Asks `/me`; `fresh`: a sign-in just ended here, so a session found sends `latch-login`. */
  refresh(fresh?: boolean): Promise<void>;
}
