/**
 * What happens to sessions, told to whoever listens in this process (`GET /events` streams, proxied
 * WebSockets) and, with Redis, on every instance: an in-process bus, and Redis pub/sub behind it.
 *
 * Channels name what ended or changed: `pid:<public id>` (one session), `sub:<digest(sub)>` (a user:
 * sign out everywhere, back-channel logout by `sub`), `psid:<digest(provider sid)>` (a provider
 * session: back-channel logout by `sid`). A listener subscribes to its session's channels
 * (`channelsOf`). Messages to a user or a provider session carry the time of the end (`at`): they
 * concern the sessions created until then only, as the deny-list's entries do (denylist.ts).
 *
 * Across instances: one pattern subscription (`<prefix>ev:*`) per instance on a connection of its own
 * (a subscribed connection can do nothing else), opened at the first subscriber. Every instance gets
 * every message: these are rare (sign-outs, refreshes of streamed sessions) and small, so one
 * subscription beats one per channel and its bookkeeping. A message is delivered in this process at
 * once, and to the others through Redis; its echo is recognised by the instance id and dropped. With
 * Redis down, publishing fails quietly (the deny-list, which the store keeps, is what ends a session:
 * this is only the news of it), and the subscription is made again when Redis is back.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { LatchUser, SessionEndReason } from '../contract.ts';
import type { RedisAccess } from './index-store.ts';
import { publicId } from './index-store.ts';
import { digest } from './store.ts';

export type BusMessage =
  | { type: 'ended'; reason: SessionEndReason; at?: number }
  | { type: 'updated'; user: LatchUser; expiresAt: number };

export type BusListener = (message: BusMessage) => void;

/** The channels a session listens on. */
export function channelsOf(session: { sid: string; user: { sub: string }; psid?: string | undefined }): string[] {
  return [`pid:${publicId(session.sid)}`, `sub:${digest(session.user.sub)}`, ...(session.psid ? [`psid:${digest(session.psid)}`] : [])];
}

export const userChannel = (sub: string) => `sub:${digest(sub)}`;
export const providerSessionChannel = (psid: string) => `psid:${digest(psid)}`;
export const sessionChannel = (id: string) => `pid:${id}`;

/** How long a new subscriber waits for the Redis subscription before going on without it, ms. */
const SUBSCRIBE_WAIT_MS = 1000;

interface Logger {
  warn(obj: object, msg: string): void;
}

export class SessionBus {
  readonly #local = new Map<string, Set<BusListener>>();
  readonly #access: Promise<RedisAccess> | undefined;
  readonly #logger: Logger | undefined;
  readonly #instance = randomBytes(8).toString('base64url');
  #subscriber: Redis | Cluster | undefined;
  #subscribed: Promise<void> | undefined;
  #closed = false;

  /** `access`: the Redis store's connection (stores/redis.ts), for several instances; none: this process only. */
  constructor(options: { access?: Promise<RedisAccess> | undefined; logger?: Logger | undefined } = {}) {
    this.#access = options.access;
    this.#logger = options.logger;
  }

  /** Listeners in this process (for tests and the leak checks). */
  get listeners(): number {
    let n = 0;
    for (const set of this.#local.values()) n += set.size;
    return n;
  }

  /**
   * Calls `listener` with every message on `channels` until the returned function is called. Resolves
   * once messages from other instances reach it too (or after SUBSCRIBE_WAIT_MS without Redis).
   */
  async subscribe(channels: readonly string[], listener: BusListener): Promise<() => void> {
    for (const channel of channels) {
      let set = this.#local.get(channel);
      if (!set) this.#local.set(channel, (set = new Set()));
      set.add(listener);
    }
    const unsubscribe = () => {
      for (const channel of channels) {
        const set = this.#local.get(channel);
        set?.delete(listener);
        if (set?.size === 0) this.#local.delete(channel);
      }
    };
    if (this.#access) await this.#remote();
    return unsubscribe;
  }

  /** Tells every listener of `channel`, here and on the other instances. Never rejects. */
  async publish(channel: string, message: BusMessage): Promise<void> {
    this.#deliver(channel, message);
    if (!this.#access) return;
    try {
      const access = await this.#access;
      const payload = JSON.stringify({ i: this.#instance, m: message });
      await access.command(() => access.client.publish(`${access.prefix}ev:${channel}`, payload));
    } catch (err) {
      this.#logger?.warn({ event: 'session-bus', channel: channel.slice(0, 4), cause: err instanceof Error ? err.message : String(err) }, 'could not tell the other instances (Redis): their streams learn of it at their next request');
    }
  }

  #deliver(channel: string, message: BusMessage): void {
    const set = this.#local.get(channel);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(message);
      } catch {
        // one listener's failure is its own
      }
    }
  }

  /** The pattern subscription, made once (and again by each reconnection); resolves when made or after SUBSCRIBE_WAIT_MS. */
  #remote(): Promise<void> {
    this.#subscribed ??= (async () => {
      const access = await this.#access!;
      if (this.#closed) return;
      const pattern = `${access.prefix}ev:*`;
      const cut = `${access.prefix}ev:`.length;
      // Its own connection: a subscribed one can run nothing else. No offline queue: a subscription is
      // made on each 'ready' below, not replayed.
      // On a cluster, PUBLISH reaches every node (classic pub/sub), so one subscribed connection to any
      // node hears every instance; Cluster.duplicate takes its seeds first, then its options.
      const options = { autoResubscribe: false, enableOfflineQueue: true, lazyConnect: false };
      const sub = 'isCluster' in access.client && access.client.isCluster ? access.client.duplicate(undefined, options) : (access.client as Redis).duplicate(options);
      this.#subscriber = sub;
      sub.on('error', () => {}); // the store's outage log reports Redis going away; this connection retries on its own
      sub.on('pmessage', (_pattern: string, channel: string, payload: string) => {
        try {
          const { i, m } = JSON.parse(payload) as { i: string; m: BusMessage };
          if (i !== this.#instance) this.#deliver(channel.slice(cut), m);
        } catch {
          // not ours
        }
      });
      let first: (() => void) | undefined;
      const made = new Promise<void>((resolve) => (first = resolve));
      const subscribe = () => {
        sub.psubscribe(pattern).then(() => first?.(), () => {});
      };
      sub.on('ready', subscribe);
      const timer = setTimeout(() => first?.(), SUBSCRIBE_WAIT_MS);
      await made;
      clearTimeout(timer);
    })().catch(() => undefined);
    return this.#subscribed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#local.clear();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    if (sub) {
      try {
        await Promise.race([sub.quit(), new Promise((r) => setTimeout(r, 500).unref())]);
      } finally {
        sub.disconnect();
      }
    }
  }
}
