/**
 * Writes dist/custom-elements.json, the widget's Custom Elements Manifest, with
 * @custom-elements-manifest/analyzer (Lit plugin) over widget/, then drops the
 * private members (`_`-prefixed: internal state such as `_open`) it lists too; then, from it, the
 * elements' types for React, Vue and Svelte (scripts/framework-types.ts, dist/types/frameworks/).
 * Part of `npm run build:widget`, after the widget's declarations (dist/types/widget/):
 *
 *   node --import tsx scripts/custom-elements.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedNames, frameworkTypes } from './framework-types.ts';

const root = join(import.meta.dirname, '..');
const tmp = join(root, '.tmp', 'cem');
const out = join(root, 'dist', 'custom-elements.json');

const cli = join(root, 'node_modules', '@custom-elements-manifest', 'analyzer', 'cem.js');
// --outdir is taken relative to the working directory (the repository's root).
const run = spawnSync(
  process.execPath,
  [cli, 'analyze', '--config', 'scripts/custom-elements.config.mjs', '--litelement', '--globs', 'widget/**/*.ts', '--exclude', 'widget/**/*.styles.ts', '--outdir', '.tmp/cem'],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (run.status !== 0) process.exit(run.status ?? 1);

interface Named {
  name: string;
}
interface Declaration extends Named {
  members?: Named[];
  attributes?: (Named & { fieldName?: string })[];
  [key: string]: unknown;
}
interface Manifest {
  modules: { path: string; declarations?: Declaration[]; [key: string]: unknown }[];
  [key: string]: unknown;
}

const manifest = JSON.parse(readFileSync(join(tmp, 'custom-elements.json'), 'utf8')) as Manifest;
// `lang` is the one attribute kept under a private field name (`_lang`, so the native `lang` stays).
const isPrivate = (n: Named & { fieldName?: string }) =>
  n.name != 'lang' && (n.name.startsWith('_') || !!n.fieldName?.startsWith('_'));
for (const mod of manifest.modules)
  for (const decl of mod.declarations ?? []) {
    if (decl.members) decl.members = decl.members.filter((m) => !isPrivate(m));
    if (decl.attributes) decl.attributes = decl.attributes.filter((a) => !isPrivate(a));
  }
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(out, JSON.stringify(manifest, null, 2) + '\n');
rmSync(tmp, { recursive: true, force: true });

const elements = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.tagName);
console.log(`custom-elements.json: ${elements.map((d) => `<${String(d.tagName)}>`).join(' ')}`);

const typesDir = join(root, 'dist', 'types', 'frameworks');
mkdirSync(typesDir, { recursive: true });
const widgetExports = exportedNames(readFileSync(join(root, 'dist', 'types', 'widget', 'index.d.ts'), 'utf8'));
for (const [file, text] of Object.entries(frameworkTypes(manifest, widgetExports))) writeFileSync(join(typesDir, file), text);
console.log('dist/types/frameworks: React, Vue and Svelte declarations');
