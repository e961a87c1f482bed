/**
 * Chunks a render needs, loaded on first use: a language's strings (../i18n/index.ts) and the
 * password form (elements/login.ts). A render cannot wait for a chunk, so it shows a placeholder
 * until `ready` says the chunk is there, and renders again.
 */
const loaded: Record<string, unknown> = {};
const loading: Record<string, Promise<void>> = {};

/**
 * The default export of chunk `name` once `load` has loaded it, null if it could not be loaded;
 * undefined while it loads (one load, however many ask), and `ready` runs once it has.
 */
export function lazy<T>(name: string, load: () => Promise<{ default: T }>, ready: () => void): T | null | undefined {
  if (name in loaded) return loaded[name] as T | null;
  void (loading[name] ??= load().then(
    (m) => void (loaded[name] = m.default),
    () => void (loaded[name] = null),
  )).then(ready);
}
