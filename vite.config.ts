/**
 * The widget's library build: dist/latch.js (ES module) and dist/latch.iife.js
 * (classic script: globals `latch`, the API, and `LatchWidget`, the exports),
 * both with Lit bundled in; plus a file for each module in widget/chunks/ (dist/latch-<name>.js),
 * which both builds import from beside themselves only when a page needs it: the languages
 * (latch-de.js, -fr, -es), the menu, the error state, the tabs, the events... (widget/lazy.ts).
 * dist/ is shared with the BFF's build, so it is never emptied here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { build, defineConfig, minifySync, type Plugin, type Rolldown } from 'vite';
import de from './widget/i18n/de.ts';
import es from './widget/i18n/es.ts';
import fr from './widget/i18n/fr.ts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};
/** The language chunks, written as data (their modules in widget/chunks/ re-export these tables). */
const locales: Record<string, object> = { de, fr, es };
/** Every chunk, by name: widget/chunks/<name>.ts. */
const chunkNames = readdirSync(new URL('./widget/chunks/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

/**
 * widget/lazy.ts's one `import(`./chunks/${name}.ts`)` becomes `import(`./latch-${name}.js`)`,
 * resolved beside the script that asks (an ES module's URL, or a classic script's src), and each
 * module of widget/chunks/ is written to that file: a language as data, any other built on its own.
 * A built chunk must import nothing: the bundle hands it the port (widget/port.ts: Lit's `html`,
 * the session's state and hooks...), so that it shares the bundle's one Lit and one session (a
 * chunk importing latch.js would be a second copy under a classic script); plain helpers it imports
 * from source are copied into it.
 */
function chunks(): Plugin {
  let root = process.cwd();
  return {
    name: 'latch-chunks',
    enforce: 'pre',
    configResolved(config) {
      root = config.root;
    },
    transform(code, id) {
      if (!id.endsWith('/widget/lazy.ts')) return null;
      // The import itself (its comment keeps Vite from resolving it), not the words of a comment.
      const out = code.replace(/(import\(\/\* @vite-ignore \*\/ )`\.\/chunks\/\$\{name\}\.ts`\)/, '$1`./latch-${name}.js`)');
      if (out == code) this.error('widget/lazy.ts: the import of `./chunks/${name}.ts` is gone');
      return out;
    },
    async generateBundle(options) {
      if (options.format != 'es') return;
      for (const name of chunkNames) {
        const fileName = `latch-${name}.js`;
        if (name in locales) {
          this.emitFile({ type: 'asset', fileName, source: `export default ${JSON.stringify(locales[name])};\n` });
          continue;
        }
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
            lib: { entry: `widget/chunks/${name}.ts`, formats: ['es'], fileName: () => fileName },
          },
        });
        const out = ([] as Rolldown.RolldownOutput[])
          .concat(built as Rolldown.RolldownOutput)
          .flatMap((o) => o.output)
          .filter((o): o is Rolldown.OutputChunk => o.type == 'chunk');
        const [chunk] = out;
        if (out.length != 1 || !chunk) return this.error(`${fileName}: ${out.length} chunks, not one`);
        if (chunk.imports.length || chunk.dynamicImports.length || /\bimport\b/.test(chunk.code))
          return this.error(`${fileName} must import nothing (it imports ${[...chunk.imports, ...chunk.dynamicImports].join(', ') || 'something'})`);
        this.emitFile({ type: 'asset', fileName, source: chunk.code });
      }
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
    chunks(),
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
