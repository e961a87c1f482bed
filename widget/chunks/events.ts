/**
 * What a signed-in page keeps running: the session's `/events` stream, and the timers ahead of the
 * session's end.
 *
 * One stream for all the microsite's tabs: the tab that holds the Web Lock `latch:events:<bff>`
 * leads, reads `GET /events`, applies what it says and tells the other tabs through ./start.ts's
 * BroadcastChannel (`session-ended`: signed out, with its reason; `session-updated`: the refreshed
 * claims). The other signed-in tabs wait for the lock: when the leading tab closes (or signs out),
 * the browser hands it to one of them, which connects. Without Web Locks or BroadcastChannel, each
 * tab reads its own stream.
 *
 * The stream is read with fetch, not EventSource, to see its status: 401 (no session left) asks
 * `/me`; 404, 501 or another refusal (a BFF on Lambda, which has no streams; 429, too many streams)
 * falls back to asking `/me` every `eventsFallbackInterval` ms (default 60 000) in the leading tab,
 * which tells the others of a change, and on becoming visible (./start.ts) in every tab. A stream
 * that breaks (the network, a 5xx, the server closing it) is opened again after the server's
 * `retry` (5 s until it says).
 *
 * Timers: `latch-expiring` (cancelable) `expiringBefore` ms ahead of `expiresAt`, then, unless a
 * listener called `preventDefault()`, the element's warning with "Stay signed in" (./expiry.ts);
 * at `expiresAt` (plus a second) `/me` again.
 *
 * Not in the bundle (dist/latch-events.js): the session loads it the first time it is signed in.
 */
import type { MeResponse, SessionEndedEvent, SessionUpdatedEvent } from '../../bff/contract.ts';
import { SIGNED_OUT, store } from '../client/storage.ts';
import { init, type LatchExpiringDetail } from '../events.ts';
import type { LatchPort } from '../port.ts';

/** `eventsFallbackInterval`'s default: a minute. */
export const FALLBACK_INTERVAL = 60_000;
/** The stream's reconnection delay until the server's `retry:` says another. */
const RETRY = 5_000;

/** setTimeout's delay until epoch ms `at`: it takes a negative delay as 0, and overflows above 2^31 - 1. */
const until = (at: number): number => Math.min(at - Date.now(), 2 ** 31 - 1);

/**
 * A delay that an abort ends early, or skips when it came first (a stream aborted by a sign-out
 * must not keep the Web Lock, and so the other tabs' stream, for `retry` more ms).
 */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
  });

/** The events of a `text/event-stream` body, as `[event, data]`; `retry:` values go to `onRetry`. */
async function* read(body: ReadableStream<Uint8Array>, onRetry: (ms: number) => void): AsyncGenerator<[string, string]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line) {
        if (data.length) yield [event || 'message', data.join('\n')];
        event = '';
        data = [];
        continue;
      }
      const colon = line.indexOf(':');
      // A comment (`: ping`): the heartbeat.
      if (colon == 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field == 'event') event = v;
      else if (field == 'data') data.push(v);
      else if (field == 'retry' && /^\d+$/.test(v)) onRetry(+v);
    }
  }
}

/**
 * Reads the stream while `signal` lets it, again and again; returns once it said the session
 * ended, once `/events` found no session, or when the BFF has no stream for it.
 */
async function stream(port: LatchPort, signal: AbortSignal): Promise<void> {
  const { config, state, apply, refresh } = port;
  let retry = RETRY;
  while (!signal.aborted) {
    let res: Response | undefined;
    try {
      res = await fetch(config.bff + '/events', {
        credentials: 'include',
        headers: { Accept: 'text/event-stream' },
        cache: 'no-store',
        signal,
      });
      if (res.status == 401) {
        // No live session: /me says how things stand (and tells the other tabs).
        return await refresh(true);
      }
      // No stream here: 404 or 501 (a BFF on Lambda, or of before /events), 429 (too many streams),
      // or an answer that is not one. A 5xx (but 501) is passing: again after `retry`.
      const isStream = res.headers.get('content-type')?.startsWith('text/event-stream');
      if (res.ok ? !isStream : res.status < 500 || res.status == 501) return;
      if (res.ok && res.body)
        for await (const [event, data] of read(res.body, (ms) => (retry = ms))) {
          if (event == 'session-ended') {
            const { reason } = JSON.parse(data) as SessionEndedEvent;
            // Ended from elsewhere on purpose (revoked, everywhere): no silent sign-in undoes it. Not
            // expiry, nor the provider's own end; nor `logout`, which reaches only this browser's tabs,
            // where the tab that signed out has already said whether to (../client/logout.ts: not when
            // it went to the provider's sign-out page, where the user may choose to stay signed in).
            if (reason == 'revoked' || reason == 'everywhere') store(() => localStorage.setItem(SIGNED_OUT, '1'));
            return apply(null, true, reason);
          }
          if (event == 'session-updated' && state.user) {
            const { provider, acr, authTime } = state;
            const me: MeResponse = {
              ...(JSON.parse(data) as SessionUpdatedEvent),
              provider: provider ?? undefined,
              acr: acr ?? undefined,
              authTime: authTime ?? undefined,
            };
            apply(me, true);
          }
        }
    } catch {
      // The network, or the abort: again after `retry`, unless aborted.
    }
    await sleep(retry, signal);
  }
}

/** Asks `/me` every `eventsFallbackInterval` ms (telling the other tabs of a change) until `signal` aborts. */
async function poll(port: LatchPort, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(port.config.eventsFallbackInterval || FALLBACK_INTERVAL, signal);
    if (!signal.aborted) await port.refresh(true);
  }
}

/**
 * Leads while signed in: the stream, or the fallback. Holds `signal`'s lock (when there is one)
 * until it ends, so the next tab takes over only then.
 */
async function lead(port: LatchPort, signal: AbortSignal): Promise<void> {
  await stream(port, signal);
  // Still signed in after the stream (no stream here, or an answer that did not end the session): poll.
  if (port.state.user) await poll(port, signal);
}

/** Starts following the session: leads (or waits to) while signed in, and keeps the timers. */
const events = (port: LatchPort): void => {
  const { config, state, page, on, refresh, target } = port;
  let leading: AbortController | undefined;
  let timers: ReturnType<typeof setTimeout>[] = [];
  let shown: number | null = null;

  const follow = (): void => {
    // Signed in: the stream (for this tab, or in turn with the others); signed out: none.
    if (state.user && !leading) {
      const ctl = (leading = new AbortController());
      const locks = typeof BroadcastChannel == 'function' ? navigator.locks : undefined;
      const run = (): Promise<void> => lead(port, ctl.signal);
      void (locks ? locks.request('latch:events:' + config.bff, { signal: ctl.signal }, run) : run()).catch(() => {});
    } else if (!state.user && leading) {
      leading.abort();
      leading = undefined;
    }
    // A sign-in here or in another tab: an earlier explicit sign-out no longer holds the silent sign-in back.
    if (state.user) store(() => localStorage.removeItem(SIGNED_OUT));
    schedule();
  };

  /** The timers ahead of the session's end, again for each new end. */
  const schedule = (): void => {
    const end = state.user ? state.expiresAt : null;
    if (end == shown) return;
    shown = end;
    timers.forEach(clearTimeout);
    if (page['warn']) {
      page['warn'] = false;
      port.update();
    }
    if (!end) return;
    timers = [
      setTimeout(() => {
        const detail: LatchExpiringDetail = { expiresAt: end };
        // Cancelable: a page that shows its own warning calls preventDefault().
        if (target().dispatchEvent(new CustomEvent('latch-expiring', { ...init(detail), cancelable: true }))) {
          page['warn'] = true;
          port.update();
        }
      }, until(end - config.expiringBefore)),
      setTimeout(refresh, until(end + 1000)),
    ];
  };

  const off = on('change', follow);
  follow();
  page.stops?.push(() => {
    off();
    leading?.abort();
    timers.forEach(clearTimeout);
  });
};

export default events;
