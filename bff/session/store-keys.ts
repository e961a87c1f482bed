import { digest } from './store.ts';

/**
 * Every key the session layer writes to the shared store, built in one place so that keys used
 * together land on one Redis Cluster slot.
 *
 * A cluster hashes only the part of a key between its first `{` and the next `}` (the hash tag) when
 * there is one. Keys that share a tag share a slot, so a multi-key command (MGET, MULTI/EXEC, a Lua
 * script with several KEYS) over them is allowed; over keys of different slots the cluster refuses it
 * with CROSSSLOT. Two groups:
 *
 * - a session, tag `{<sid>}`: its record (server-side mode), its deny-list entry, its refresh lock and
 *   result. The sid is 16 random bytes in base64url (session.ts), so sessions spread evenly over the
 *   16,384 slots;
 * - a user, tag `{<digest(sub)>}`: the "every session of this user" deny-list entry, and the per-user
 *   session index (`userSessions`, for the session index of issue 19): "sign out everywhere" writes
 *   both, in one slot.
 *
 * A session's keys and its user's keys are in different slots: a command that needs both (the
 * deny-list check reads `deny:sid:{sid}` and `deny:sub:{user}`) runs one command per key, pipelined
 * (stores/redis.ts `mget`). Everything else here is a single key.
 *
 * On a single Redis (and Sentinel: one master) the tags mean nothing, and the store drops the braces
 * (stores/redis.ts `untagged`): the keys are then exactly the ones earlier versions wrote, so an
 * upgrade keeps every deny-list entry, record and refresh lock (a logged-out cookie must not come back
 * to life because its deny-list key changed name). A cluster is new with this version: it has no
 * older keys to keep.
 */
export const sessionTag = (sid: string) => `{${sid}}`;
export const userTag = (sub: string) => `{${digest(sub)}}`;

export const storeKeys = {
  /** The session's sealed record (server-side mode, or a partitioned session too long for its cookie). */
  session: (sid: string) => `sess:${sessionTag(sid)}`,
  /** That one session ended (logout); kept until its absolute end. */
  deniedSession: (sid: string) => `deny:sid:${sessionTag(sid)}`,
  /** Sessions of the user created at or before the stored time ended (sign out everywhere, back-channel by sub). */
  deniedUser: (sub: string) => `deny:sub:${userTag(sub)}`,
  /** Sessions from that provider session created at or before the stored time ended (back-channel by sid). Its own slot. */
  deniedProviderSession: (psid: string) => `deny:psid:${digest(psid)}`,
  /** One refresh of a session with one refresh token: `<key>:lock` and `<key>:result` (session/refresh.ts). */
  refresh: (sid: string, rt: string) => `refresh:${sessionTag(sid)}:${digest(rt)}`,
  /** The user's index of sessions (issue 19's session index): in the user's slot, beside deniedUser. */
  userSessions: (sub: string) => `sessions:${userTag(sub)}`,
  /** A one-time marker (state, logout handle, hand-off proof): a single key, its own slot. */
  once: (key: string) => `once:${key}`,
  /** A hand-off code's record (a digest: the store never holds a redeemable code). */
  handoff: (code: string) => `handoff:${digest(code)}`,
} as const;

/**
 * `key` without its hash-tag braces: what a single Redis (or a Sentinel-managed one) stores, the same
 * name earlier versions used. Callers build keys from digests and random ids, never from text a client
 * chose, so the only braces are the tags'.
 */
export function untagged(key: string): string {
  return key.includes('{') ? key.replace(TAG_BRACES, '') : key;
}
const TAG_BRACES = /[{}]/g;
