/**
 * What the bundle hands its lazily loaded chunks (./chunks/, loaded through ./lazy.ts): each is
 * built into a file of its own (dist/latch-menu.js, ...) that the bundle imports from beside itself
 * on demand, and that file must import nothing (vite.config.ts fails the build if it does): a chunk
 * that imported latch.js would be a second Lit and a second session under a classic script. So each
 * code chunk's default export takes this one object, `port`, first, and finds there what must be
 * the bundle's own: its one Lit, its one session, its string tables. Plain functions (`emit`,
 * `request`, `langOf`, the popup's `wait`) a chunk imports from their source like any module, and
 * the build copies them into it; the main bundle does not pay for their names. The language chunks
 * (latch-de.js, ...) are data and take nothing.
 */
import type { html, TemplateResult } from 'lit';
import type { MeResponse, SessionEndReason } from '../bff/contract.ts';
import type { LatchError } from './client/bff.ts';
import type { io, LatchConfig, LatchErrorInfo, LatchLoginOptions, LatchSessionState } from './client/session.ts';
import type { en, LatchStrings } from './i18n/en.ts';
import type { LatchStringOverrides } from './i18n/index.ts';

export interface LatchPort {
  /** Lit's `html`, so that a chunk's templates render through the bundle's one Lit. */
  html: typeof html;
  /** The session's configuration: the BFF's URL, the timeout of calls to it, ... */
  config: Required<Omit<LatchConfig, 'providers' | 'eventsFallbackInterval'>> & LatchConfig;
  /** The live session (`latch.session`); change it through `set` or `apply` only. */
  state: LatchSessionState;
  /** The English table, to which a chunk adds the words only it shows (every language file has its own). */
  en: typeof en;
  /** `latch.configure({ strings })`'s overrides, by language. */
  overrides: LatchStringOverrides;
  /** Navigation and the popup, the seams component tests replace. */
  io: typeof io;
  /**
   * What the chunks keep for the rest of the page's life (the events connection, the silent
   * sign-in's one attempt...). `stops`: what ends them, for component tests, whose reset empties
   * this object (in place) as a page load would.
   */
  page: { stops?: (() => void)[]; [key: string]: unknown };
  /** Where events go: the element the user acted on, else the first element, else the document (for `emit`). */
  target(): EventTarget;
  /** Loads another chunk (../lazy.ts). */
  load<T>(name: string): Promise<T>;
  /** Changes the session (and sends the events a change sends). */
  set(next: Partial<LatchSessionState>): void;
  /**
   * A `/me` answer, or the BFF's answer like it at the end of a sign-in here (null: signed out, for
   * `reason`). `fresh`: it happened here, so the other tabs are told, and a sign-in sends
   * `latch-login`. `from`: the element the user acted on, where the events go.
   */
  apply(me: MeResponse | null, fresh?: boolean, reason?: SessionEndReason | null, from?: Element): void;
  /** Re-renders every element (after a chunk added its words). */
  update(): void;
  /** `latch.on('change')`. */
  on(type: 'change', fn: (session: LatchSessionState) => void): () => void;
  /**
   * Ends a sign-in in the error state: `callback` (the default) for a failed sign-in, whose Retry
   * signs in again; `bff` for a failed call to the BFF, whose Retry asks `/me`.
   */
  failed(code: string, source?: LatchErrorInfo['source']): void;
  /**
   * Ends in the error state for a failed call to the BFF (source `bff`), through the diagnosis
   * (chunks/diagnose.ts) when the failure is the deployment's: no answer, or
   * LATCH_THIRD_PARTY_COOKIES_BLOCKED (whose `message` goes to the console).
   */
  fail(e: LatchError): void | Promise<void>;
  /**
   * Asks `/me`; `fresh`: a sign-in just ended here, so a session found sends `latch-login` and the
   * other tabs are told; `proof`: the sign-in's proof (the popup's), sent with it.
   */
  refresh(fresh?: boolean, proof?: string): Promise<void>;
  /** `latch.login()`, from the element `from`. */
  login(options?: LatchLoginOptions, from?: Element): Promise<void>;
}

/** What `<latch-login>` is to a chunk that renders in it. */
export interface LatchHost extends HTMLElement {
  requestUpdate(): void;
  readonly updateComplete: Promise<boolean>;
}

/**
 * A chunk that renders part of `<latch-login>` (the menu, the error state, the chooser...): called
 * from the host's `render()`, with the host's strings `t`. `done` is the host's own: for the menu
 * and the chooser, it closes them.
 */
export type LatchView = (port: LatchPort, host: LatchHost, t: LatchStrings, done: () => void) => TemplateResult;
