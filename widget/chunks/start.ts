/**
 * What the session starts beside its first `/me`, which the first paint does not need:
 *
 * - The page's other tabs: a sign-in or sign-out in one tab shows in every tab of the microsite at
 *   once, through a BroadcastChannel named after the BFF (`{ me, reason }`: what `/me` says now,
 *   and why a session ended).
 * - The re-checks: a tab that becomes visible after being hidden for `recheckAfter` ms asks `/me`
 *   again, and so does a page restored from the back/forward cache (the back button during a
 *   redirect sign-in: it never stays "signing in").
 * - The providers (`GET /providers`), once signed out: with several, the "Sign in" of a
 *   `<latch-login>` without `provider` opens their menu (./chooser.ts). Asked before the click, so
 *   that "Sign in" says it has a menu before it is pressed, and a popup still opens in the click.
 * - Once signed in, ./events.ts: the `/events` connection and the timers.
 * - The English words of why a session ended (../i18n/en.ts's `ended`), which the bundle shows
 *   beside "Sign in".
 *
 * Not in the bundle (dist/latch-start.js). A change made here before it is there is told to the
 * other tabs once it is.
 */
import type { MeResponse, ProvidersResponse } from '../../bff/contract.ts';
import { request } from '../client/bff.ts';
import type { LatchEndReason } from '../client/session.ts';
import { ended } from '../i18n/en.ts';
import { addWords } from '../i18n/index.ts';
import type { LatchPort } from '../port.ts';

/** What a tab tells the others. */
export interface TabMessage {
  me: MeResponse | null;
  reason?: LatchEndReason | null;
}

/** Starts all that; returns how to tell the other tabs of a change made here. */
export type Start = (port: LatchPort) => (me: MeResponse | null, reason?: LatchEndReason | null) => void;

const start: Start = (port) => {
  const { config, state, apply, refresh, page, on, load } = port;
  addWords(ended, port);
  // Without BroadcastChannel (old browsers) each tab keeps to itself.
  const channel = typeof BroadcastChannel == 'function' ? new BroadcastChannel('latch:' + config.bff) : null;
  if (channel) channel.onmessage = (e: MessageEvent<TabMessage>) => apply(e.data.me, false, e.data.reason);
  const follow = (): void => {
    // Signed in (here or in another tab): the events connection and the timers (./events.ts).
    if (state.user) page['events'] ??= load<(port: LatchPort) => void>('events').then((events) => events(port), () => {});
    // Signed out: the providers, once (failing: none, and "Sign in" signs in with the BFF's default).
    // A click before they are here waits for them.
    if (state.status == 'signed-out')
      page['providers'] ??= request<ProvidersResponse>(config.bff + '/providers', {}, config.timeout)
        .then(
          (r) => r.providers,
          () => [],
        )
        .then((list) => {
          page['providers'] = list;
          port.update();
          return list;
        });
  };
  const off = on('change', follow);
  follow();
  let hiddenAt = 0;
  const onVisibility = (): void => {
    if (document.visibilityState == 'hidden') hiddenAt = Date.now();
    else if (hiddenAt && Date.now() - hiddenAt >= config.recheckAfter) void refresh();
  };
  const onPageShow = (e: PageTransitionEvent): void => void (e.persisted && refresh());
  document.addEventListener('visibilitychange', onVisibility);
  addEventListener('pageshow', onPageShow);
  page.stops?.push(() => {
    off();
    channel?.close();
    document.removeEventListener('visibilitychange', onVisibility);
    removeEventListener('pageshow', onPageShow);
  });
  return (me, reason) => channel?.postMessage({ me, reason } satisfies TabMessage);
};

export default start;
