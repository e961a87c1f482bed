/**
 * A second tab for component tests: test/widget/live.test.ts loads this module in a same-origin
 * frame (its own document, its own copy of the widget, the same BroadcastChannels and Web Locks as
 * the page), and the page's fake BFF (fake-bff.ts) answers it: one server, two tabs.
 */
import { latch } from '../../widget/index.ts';

const parent = window.parent as typeof window;
window.fetch = (input, init) => parent.fetch(input, init);
(window as unknown as { tab: { latch: typeof latch } }).tab = { latch };
