/**
 * The widget's library build: dist/latch.js (ES module) and dist/latch.iife.js
 * (classic script: globals `latch`, the API, and `LatchWidget`, the exports),
 * both with Lit bundled in; plus one chunk a language (dist/latch-de.js, -fr,
 * -es), imported by both builds from beside themselves only when a page asks
 * for that language; the password form (dist/latch-password.js), imported the
 * same way only when an element has mode="password"; and the partitioned
 * hand-off (dist/latch-handoff.js), only for a sign-in with mode="handoff"; and the diagnosis
 * of a call to the BFF that got no answer (dist/latch-diagnose.js), only after one did.
 * dist/ is shared with the BFF's build, so it is never emptied here.
 */
import { readFileSync } from 'node:fs';
import { build, defineConfig, minifySync, type Plugin, type Rolldown } from 'vite';
import de from './widget/i18n/de.ts';
import es from './widget/i18n/es.ts';
import fr from './widget/i18n/fr.ts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const locales: Record<string, object> = { de, fr, es };

/**
 * Each language is a separate module: the widget's `import('./de.ts')` becomes
 * `import('./latch-de.js')`, resolved beside the script that asks (an ES
 * module's URL, or a classic script's src), and the chunk is written as data.
 */
function localeChunks(): Plugin {
  return {
    name: 'latch-locale-chunks',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/widget/i18n/index.ts')) return null;
      const out = code.replace('`./${lang}.ts`', '`./latch-${lang}.js`');
      if (out == code) this.error('widget/i18n/index.ts: the import of `./${lang}.ts` is gone');
      return out;
    },
    generateBundle(options) {
      if (options.format != 'es') return;
      for (const [lang, table] of Object.entries(locales))
        this.emitFile({
          type: 'asset',
          fileName: `latch-${lang}.js`,
          source: `export default ${JSON.stringify(table)};\n`,
        });
    },
  };
}

/** A part of the widget built into a file of its own, which the bundle imports from beside itself on demand. */
interface LazyChunk {
  /** The file in dist/, e.g. `latch-password.js`. */
  file: string;
  /** Its source, built on its own, e.g. `widget/elements/password.ts`. */
  entry: string;
  /** The module that imports it (its path's end), and the specifier it imports it by. */
  importer: string;
  specifier: string;
}

/**
 * The password form (dist/latch-password.js, for mode="password") and the partitioned hand-off
 * (dist/latch-handoff.js, for mode="handoff") are separate files too. The importer's
 * `import('./password.ts')` becomes `import('./latch-password.js')`, left to the browser (resolved
 * beside the script, like a language); the entry is built on its own into that file. It must
 * import nothing: the bundle hands it what it needs (Lit's `html`, the session's hooks), so that it
 * shares the bundle's one Lit and one session (a chunk importing latch.js would be a second copy
 * under a classic script).
 */
function lazyChunk({ file, entry, importer, specifier }: LazyChunk): Plugin {
  const target = `./${file}`;
  const source = new RegExp(`import\\((/\\*.*?\\*/ )?'${specifier.replace(/[.*/]/g, '\\$&')}'\\)`);
  let root = process.cwd();
  return {
    name: `latch-chunk-${file}`,
    enforce: 'pre',
    configResolved(config) {
      root = config.root;
    },
    resolveId(id) {
      return id == target ? { id: target, external: true } : null;
    },
    transform(code, id) {
      if (!id.endsWith(importer)) return null;
      const out = code.replace(source, `import('${target}')`);
      if (out == code) this.error(`${importer}: the import of '${specifier}' is gone`);
      return out;
    },
    async generateBundle(options) {
      if (options.format != 'es') return;
      const built = await build({
        configFile: false,
        root,
        publicDir: false,
        logLevel: 'warn',
        plugins: [minifyTemplates(), oxcCompress()],
        build: {
          write: false,
          minify: 'terser',
          terserOptions,
          rolldownOptions,
          lib: { entry, formats: ['es'], fileName: () => file },
        },
      });
      const chunks = ([] as Rolldown.RolldownOutput[])
        .concat(built as Rolldown.RolldownOutput)
        .flatMap((o) => o.output)
        .filter((o): o is Rolldown.OutputChunk => o.type == 'chunk');
      const [chunk] = chunks;
      if (chunks.length != 1 || !chunk) return this.error(`${file}: ${chunks.length} chunks, not one`);
      if (chunk.imports.length || chunk.dynamicImports.length || /\bimport\b/.test(chunk.code))
        return this.error(`${file} must import nothing (it imports ${[...chunk.imports, ...chunk.dynamicImports].join(', ') || 'something'})`);
      this.emitFile({ type: 'asset', fileName: file, source: chunk.code });
    },
  };
}

/**
 * Squeezes the whitespace out of the widget's css`` and html`` literals (the
 * minifier leaves template text alone). The widget's templates are written so
 * that line breaks only ever stand between tags or attributes.
 */
function minifyTemplates(): Plugin {
  return {
    name: 'latch-minify-templates',
    transform(code, id) {
      if (!id.includes('/widget/')) return null;
      return code
        .replace(/\bhtml`([^`]*)`/g, (_, body: string) => {
          const min = body.replace(/\s*\n\s*/g, ' ').replace(/>\s+</g, '><').replace(/\s+(\/?>)/g, '$1')
            .replace(/>\s+\$\{/g, '>${')
            .replace(/\}\s+</g, '}<');
          return 'html`' + min + '`';
        })
        .replace(/\bcss`([^`]*)`/g, (_, body: string) => {
          const min = body
            .replace(/\/\*[\s\S]*?\*\//g, '')
            .replace(/\s+/g, ' ')
            .replace(/\s*([{};,>])\s*/g, '$1')
            .replace(/:\s+/g, ':')
            .replace(/;}/g, '}')
            .replace(/([^\w.])0\./g, '$1.')
            .replace(/\[(\w+)='([\w-]+)'\]/g, '[$1=$2]')
            .trim();
          return 'css`' + min + '`';
        });
    },
  };
}

/**
 * Oxc's compressor (Vite's default minifier) ahead of terser: it does what terser does not, such as
 * `const` as `let` and dropping Lit's unused `svg` and `mathml` tags. Terser then compresses again
 * and mangles, the widget's private members included.
 */
function oxcCompress(): Plugin {
  return {
    name: 'latch-oxc-compress',
    renderChunk(code, chunk) {
      return minifySync(chunk.fileName, code, { compress: true, mangle: false }).code;
    },
  };
}

const terserOptions = {
  ecma: 2020,
  module: true,
  // Vite asks for Safari 10 workarounds by default; the widget's syntax (static blocks, `??=`) needs a newer browser anyway.
  safari10: false,
  // keep_fargs: no code here reads a function's `length`.
  compress: { passes: 2, unsafe_arrows: true, unsafe_methods: true, pure_getters: true, keep_fargs: false },
  // The widget's own private members (`_open`, `_options`...); Lit's are `_$`-prefixed and left alone.
  mangle: { properties: { regex: /^_[a-z]/ } },
  format: { comments: false },
} as const;

/**
 * `bundlerTimings: false`: rolldown's table of slow plugins (printed, with colour codes, on every
 * build that spends over a second in plugins) would always say the same thing here: terser takes
 * about 90% of the build (5.6 of 6.3 s on this machine), as chosen for the bundle's size (see
 * `terserOptions`). `npm start` builds with this file too, and its terminal shows the banner only.
 */
const rolldownOptions = {
  checks: { bundlerTimings: false },
  output: { generatedCode: { symbols: false } },
} as const;

export default defineConfig({
  publicDir: false,
  define: { __LATCH_VERSION__: JSON.stringify(version) },
  plugins: [
    localeChunks(),
    lazyChunk({ file: 'latch-password.js', entry: 'widget/elements/password.ts', importer: '/widget/elements/login.ts', specifier: './password.ts' }),
    lazyChunk({ file: 'latch-handoff.js', entry: 'widget/client/handoff.ts', importer: '/widget/client/session.ts', specifier: './handoff.ts' }),
    lazyChunk({ file: 'latch-diagnose.js', entry: 'widget/client/diagnose.ts', importer: '/widget/client/session.ts', specifier: './diagnose.ts' }),
    minifyTemplates(),
    oxcCompress(),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    minify: 'terser',
    terserOptions,
    rolldownOptions,
    lib: {
      entry: 'widget/index.ts',
      // The classic script's namespace (classes, LatchError); the API itself is `window.latch`.
      name: 'LatchWidget',
      formats: ['es', 'iife'],
      fileName: (format) => (format == 'es' ? 'latch.js' : 'latch.iife.js'),
    },
  },
});
