/**
 * The widget's chunks: every module in ./chunks/ is a file of its own in the build
 * (chunks/menu.ts is dist/latch-menu.js, chunks/de.ts is dist/latch-de.js), which the bundle imports
 * from beside itself the first time it is needed. This one `import()` is the only one in the
 * bundle: vite.config.ts turns `./chunks/${name}.ts` into `./latch-${name}.js`, and fails the build
 * if it is gone. A code chunk's default export takes the port (./port.ts) first.
 */
const loaded: Record<string, unknown> = {};
const loading: Record<string, Promise<unknown>> = {};

/**
 * The default export of chunk `name`, loaded once however many ask; rejects if it cannot be
 * loaded (and does not try again: the page keeps what it has without it).
 */
export const load = <T>(name: string): Promise<T> =>
  (loading[name] ??= import(/* @vite-ignore */ `./chunks/${name}.ts`).then(
    (m: { default: unknown }) => (loaded[name] = m.default),
    (e) => {
      loaded[name] = null;
      throw e;
    },
  )) as Promise<T>;

/**
 * For a render, which cannot wait: the default export of chunk `name` once loaded, null if it could
 * not be loaded; undefined while it loads, and `ready` runs once it has (or has failed).
 */
export function lazy<T>(name: string, ready: () => void): T | null | undefined {
  if (name in loaded) return loaded[name] as T | null;
  load(name).then(ready, ready);
}
