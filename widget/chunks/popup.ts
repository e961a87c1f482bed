/**
 * The popup sign-in (`mode="popup"`), once the session has opened the popup in the click: waits for
 * the BFF's callback page to post `{ type: 'latch:login', ok, error?, proof? }` (accepted only from
 * the BFF's origin and from this popup, ../client/popup.ts), then asks `/me` (with the proof), or
 * ends in the error state with the popup's error. A popup closed without a message asks `/me` too.
 *
 * Not in the bundle (dist/latch-popup.js): loaded at the first popup sign-in.
 */
import { wait } from '../client/popup.ts';
import type { LatchPort } from '../port.ts';

/** Signs in through `win`, the popup at the BFF's `/login?…&mode=popup`. */
export type Popup = (port: LatchPort, win: Window, url: string) => Promise<void>;

const popup: Popup = async ({ config, failed, refresh }, win) => {
  const msg = await wait(win, config.bff);
  if (msg && !msg.ok) return failed(msg.error || 'server_error');
  // Signed in, or the popup was closed: ask /me either way (with the proof, if any).
  return refresh(true, msg?.proof);
};

export default popup;
