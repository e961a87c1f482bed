/**
 * The widget's library build: dist/latch.js (ES module) and dist/latch.iife.js
 * (classic script: globals `latch`, the API, and `LatchWidget`, the exports),
 * both with Lit bundled in; plus one chunk a language (dist/latch-de.js, -fr,
 * -es), imported by both builds from beside themselves only when a page asks
 * for that language. dist/ is shared with the BFF's build, so it is never
 * emptied here.
 */
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
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

export default defineConfig({
  publicDir: false,
  define: { __LATCH_VERSION__: JSON.stringify(version) },
  plugins: [localeChunks(), minifyTemplates()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    minify: 'terser',
    terserOptions: {
      ecma: 2020,
      module: true,
      compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
      // The widget's own private members (`_open`, `_options`...); Lit's are `_$`-prefixed and left alone.
      mangle: { properties: { regex: /^_[a-z]/ } },
      format: { comments: false },
    },
    rolldownOptions: { output: { generatedCode: { symbols: false } } },
    lib: {
      entry: 'widget/index.ts',
      // The classic script's namespace (classes, LatchError); the API itself is `window.latch`.
      name: 'LatchWidget',
      formats: ['es', 'iife'],
      fileName: (format) => (format == 'es' ? 'latch.js' : 'latch.iife.js'),
    },
  },
});
