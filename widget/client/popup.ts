/**
 * The sign-in popup's answer: the message the BFF's callback page posts to its opener (popup and
 * hand-off sign-ins). A plain function, so that the hand-off's chunk (./handoff.ts) has its own
 * copy of it rather than one handed over by the bundle (../port.ts).
 */
import type { LatchPopupMessage } from '../../bff/contract.ts';

/**
 * The message of popup `win`, accepted only from the origin of the BFF at `bff` and from this
 * popup; undefined once the popup has closed without one.
 */
export const wait = (win: Window, bff: string): Promise<LatchPopupMessage | undefined> =>
  new Promise((done) => {
    const origin = new URL(bff).origin;
    const onMessage = (e: MessageEvent) => {
      if (e.origin == origin && e.source == win && e.data?.type == 'latch:login') end(e.data);
    };
    // Closed: give a message posted just before closing the time to arrive.
    const poll = setInterval(() => win.closed && setTimeout(end, 100), 400);
    const end = (m?: LatchPopupMessage) => {
      removeEventListener('message', onMessage);
      clearInterval(poll);
      done(m);
    };
    addEventListener('message', onMessage);
  });
