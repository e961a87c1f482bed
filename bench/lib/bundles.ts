/**
 * Bundle sizes: the Latch widget's every file in dist/, and the widgets we compare it with, measured
 * here rather than quoted. Each vendor package is installed from the npm registry into a scratch folder
 * (`npm install --ignore-scripts`: nothing of theirs runs), and a minimal entry that does what a login
 * button needs is bundled for the browser with esbuild (minified, ES modules, code splitting, so a
 * dynamic import becomes a chunk of its own and is reported as one). Sizes: raw, gzip (level 9) and
 * brotli (quality 11), as scripts/size-check.ts measures the widget. KB = 1024 bytes.
 *
 * Results are cached in bench/results/vendor-bundles.json per package version, entry and esbuild
 * version: a run asks the registry for each package's latest version (`npm view`) and installs and
 * builds only what is not cached. Without the registry, the newest cached figure is used and the
 * report says so.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, version as esbuildVersion } from 'esbuild';

const run = promisify(execFile);

export interface BundleFile {
  file: string;
  raw: number;
  gzip: number;
  brotli: number;
  /** Loaded first: the entry's output and the chunks it imports statically. The others load on demand. */
  main: boolean;
}

export function sizes(file: string, body: Buffer, main: boolean): BundleFile {
  const brotli = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }).length;
  return { file, raw: body.length, gzip: gzipSync(body, { level: 9 }).length, brotli, main };
}

/** The widget's files: every dist/latch*.js. The two main bundles are latch.iife.js (classic script) and latch.js (ES module). */
export function widgetBundles(dist: string): BundleFile[] {
  const names = readdirSync(dist).filter((f) => /^latch[\w.-]*\.js$/.test(f)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((name) => sizes(name, readFileSync(join(dist, name)), name === 'latch.iife.js' || name === 'latch.js'));
}
const rank = (name: string) => (name === 'latch.iife.js' ? 0 : name === 'latch.js' ? 1 : 2);

interface VendorSpec {
  /** How the report names it. */
  label: string;
  /** The npm package. */
  pkg: string;
  /** An ES module doing what a login button needs, bundled for the browser. */
  entry?: string;
  /** Or a file the package ships ready to load, measured as it is. */
  prebuilt?: string;
  /** What the figure includes and leaves out. */
  note: string;
}

/** What a page needs for a sign-in button and the signed-in user's name, with each library's documented API. */
const VENDORS: VendorSpec[] = [
  {
    label: 'oidc-client-ts',
    pkg: 'oidc-client-ts',
    entry: `import { UserManager } from 'oidc-client-ts';
const users = new UserManager({ authority: 'https://id.example.com', client_id: 'web', redirect_uri: location.origin + '/callback', scope: 'openid profile email' });
if (new URLSearchParams(location.search).has('code')) await users.signinRedirectCallback();
const user = await users.getUser();
document.querySelector('#login').onclick = () => users.signinRedirect();
document.querySelector('#name').textContent = user?.profile.name ?? '';
`,
    note: 'headless: no UI of its own (the page draws the button)',
  },
  {
    label: 'auth0-spa-js',
    pkg: '@auth0/auth0-spa-js',
    entry: `import { createAuth0Client } from '@auth0/auth0-spa-js';
const auth0 = await createAuth0Client({ domain: 'id.example.com', clientId: 'web', authorizationParams: { redirect_uri: location.origin } });
if (new URLSearchParams(location.search).has('code')) await auth0.handleRedirectCallback();
const user = (await auth0.isAuthenticated()) ? await auth0.getUser() : undefined;
document.querySelector('#login').onclick = () => auth0.loginWithRedirect();
document.querySelector('#name').textContent = user?.name ?? '';
`,
    note: 'headless: no UI of its own (the page draws the button)',
  },
  {
    label: '@descope/web-component',
    pkg: '@descope/web-component',
    entry: `import '@descope/web-component';
const flow = document.createElement('descope-wc');
flow.setAttribute('project-id', 'P0000000000000000000000000000');
flow.setAttribute('flow-id', 'sign-up-or-in');
flow.addEventListener('success', (e) => { document.querySelector('#name').textContent = e.detail.user.name; });
document.querySelector('#login').append(flow);
`,
    note: "the <descope-wc> element; the flow's screens and its UI components (@descope/web-components-ui) load at run time from Descope's CDN, not counted",
  },
  {
    label: 'Clerk (@clerk/clerk-js)',
    pkg: '@clerk/clerk-js',
    entry: `import { Clerk } from '@clerk/clerk-js';
const clerk = new Clerk('pk_test_Y2xlcmsuZXhhbXBsZS5jb20k');
await clerk.load();
if (clerk.user) document.querySelector('#name').textContent = clerk.user.fullName ?? '';
else clerk.mountSignIn(document.querySelector('#login'));
`,
    note: 'the npm ES module (dist/clerk.mjs), which holds every component: nothing is split off',
  },
  {
    label: 'Clerk, its browser script',
    pkg: '@clerk/clerk-js',
    prebuilt: 'dist/clerk.browser.js',
    note: "the prebuilt script its CDN serves (first file only; it loads more chunks on demand)",
  },
  {
    label: 'Stytch (@stytch/vanilla-js)',
    pkg: '@stytch/vanilla-js',
    entry: `import { StytchUIClient, Products } from '@stytch/vanilla-js';
const stytch = new StytchUIClient('public-token-test-00000000-0000-0000-0000-000000000000');
stytch.mountLogin({ elementId: '#login', config: { products: [Products.emailMagicLinks, Products.oauth], emailMagicLinksOptions: { loginRedirectURL: location.origin, signupRedirectURL: location.origin }, oauthOptions: { providers: [{ type: 'google' }] } } });
`,
    note: 'its pre-built login UI (email magic link and Google), mounted into an element',
  },
];

export interface VendorBundle {
  label: string;
  pkg: string;
  version: string;
  /** The entry's source, or `prebuilt: <file>`. */
  entry: string;
  note: string;
  files: BundleFile[];
  esbuild: string;
  measuredAt: string;
  /** Set on the figures of this run: taken from the cache rather than built now. */
  cached?: boolean;
  /** Set when the registry could not be asked: the newest cached figure, perhaps not the latest version. */
  stale?: boolean;
}

interface Cache {
  note: string;
  bundles: Record<string, VendorBundle>;
}

const keyOf = (spec: VendorSpec, version: string) =>
  `${spec.label} | ${spec.pkg}@${version} | esbuild ${esbuildVersion} | ${createHash('sha256').update(spec.entry ?? `prebuilt: ${spec.prebuilt}`).digest('hex').slice(0, 12)}`;

async function latestVersion(pkg: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('npm', ['view', pkg, 'version', '--json'], { timeout: 60_000 });
    const version = JSON.parse(stdout) as unknown;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

export async function vendorBundles(cacheFile: string, log: (msg: string) => void): Promise<VendorBundle[]> {
  const cache: Cache = existsSync(cacheFile) ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Cache) : { note: '', bundles: {} };
  const packages = [...new Set(VENDORS.map((v) => v.pkg))];
  const versions = new Map(await Promise.all(packages.map(async (pkg) => [pkg, await latestVersion(pkg)] as const)));
  const out: VendorBundle[] = [];
  const toBuild: Array<{ spec: VendorSpec; version: string; index: number }> = [];
  for (const spec of VENDORS) {
    const version = versions.get(spec.pkg);
    if (version === undefined) {
      const newest = Object.values(cache.bundles).filter((b) => b.label === spec.label).sort((a, b) => b.measuredAt.localeCompare(a.measuredAt))[0];
      if (!newest) throw new Error(`vendor bundles: npm view ${spec.pkg} failed, and nothing is cached for ${spec.label}`);
      log(`vendor bundles: the registry did not answer for ${spec.pkg}; using the cached ${spec.pkg}@${newest.version}`);
      out.push({ ...newest, cached: true, stale: true });
      continue;
    }
    const hit = cache.bundles[keyOf(spec, version)];
    if (hit) out.push({ ...hit, cached: true });
    else {
      toBuild.push({ spec, version, index: out.length });
      out.push(undefined as unknown as VendorBundle);
    }
  }
  if (toBuild.length > 0) {
    const scratch = mkdtempSync(join(tmpdir(), 'latch-bench-vendors-'));
    try {
      const wanted = [...new Set(toBuild.map((b) => `${b.spec.pkg}@${b.version}`))];
      log(`vendor bundles: npm install --ignore-scripts ${wanted.join(' ')} (into ${scratch})`);
      writeFileSync(join(scratch, 'package.json'), '{"private":true}\n');
      await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...wanted], { cwd: scratch, timeout: 600_000, maxBuffer: 16 << 20 });
      for (const { spec, version, index } of toBuild) {
        const bundle = await buildVendor(spec, version, scratch);
        cache.bundles[keyOf(spec, version)] = bundle;
        out[index] = bundle;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    cache.note = 'Written by npm run bench (bench/lib/bundles.ts): vendor bundle sizes per package version, entry and esbuild version. Delete it to measure everything again.';
    writeFileSync(cacheFile, `${JSON.stringify(cache, null, 2)}\n`);
  }
  return out;
}

async function buildVendor(spec: VendorSpec, version: string, scratch: string): Promise<VendorBundle> {
  const common = { label: spec.label, pkg: spec.pkg, version, note: spec.note, esbuild: esbuildVersion, measuredAt: new Date().toISOString() };
  if (spec.prebuilt) {
    const file = join(scratch, 'node_modules', spec.pkg, spec.prebuilt);
    return { ...common, entry: `prebuilt: ${spec.prebuilt}`, files: [sizes(basename(file), readFileSync(file), true)] };
  }
  const name = spec.label.replace(/[^\w]+/g, '-').replace(/^-|-$/g, '');
  // Each entry is index.js in a folder of its own: its output is index.js, its chunks beside it.
  mkdirSync(join(scratch, 'entries', name), { recursive: true });
  const entryFile = join('entries', name, 'index.js');
  writeFileSync(join(scratch, entryFile), spec.entry!);
  const outdir = join('out', name);
  const result = await build({
    absWorkingDir: scratch,
    entryPoints: [entryFile],
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    platform: 'browser',
    target: 'es2022',
    conditions: ['production'],
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    write: true,
    logLevel: 'error',
  });
  // What a page loads first: the entry's output and the chunks it imports statically (code it shares
  // with a lazy chunk); the rest loads on demand (dynamic imports).
  const outputs = result.metafile.outputs;
  const initial = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    for (const imported of outputs[file]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  for (const [file, meta] of Object.entries(outputs)) if (meta.entryPoint === entryFile) visit(file);
  const files = Object.keys(outputs)
    .filter((file) => file.endsWith('.js'))
    .map((file) => sizes(relative(outdir, file), readFileSync(join(scratch, file)), initial.has(file)))
    .sort((a, b) => Number(b.main) - Number(a.main) || b.brotli - a.brotli);
  return { ...common, entry: spec.entry!, files };
}
