/**
 * mime-types for the production bundles (scripts/build-bff.ts puts this module wherever a dependency
 * asks for 'mime-types'), its tables built on first use rather than at start-up. Loading mime-types
 * indexes every type of mime-db (some 2,500, with a score for each clashing extension): 13–14 ms of
 * every cold start (`node -e "require('mime-types')"`), for tables a warm /me never reads (it sets its
 * own Content-Type) and that only error pages, Koa's default body types and type-is's short names
 * ('json') look into. Same answers: every export is the real module's, reached through a function;
 * esbuild bundles a CommonJS module as a function run at its first require(), so the real one runs at
 * the first call. Not used in development (tsx loads mime-types itself).
 */
let real;
const load = () => (real ??= require('mime-types'));

module.exports = {
  charset: (type) => load().charset(type),
  charsets: { lookup: (type) => load().charset(type) },
  contentType: (str) => load().contentType(str),
  extension: (type) => load().extension(type),
  lookup: (path) => load().lookup(path),
  get extensions() {
    return load().extensions;
  },
  get types() {
    return load().types;
  },
};
