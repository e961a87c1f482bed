/**
 * Checks of the built files (run after `npm run build:widget`): a chunk is a file of its own
 * (dist/latch-<name>.js) that imports nothing, and its code is not in the main bundles, which load
 * every chunk through their one `import(`./latch-${name}.js`)` (widget/lazy.ts).
 */
/// <reference types="mocha" />
import { expect } from '@esm-bundle/chai';

/** A built file's text. */
export async function builtText(path: string): Promise<string> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: ${res.status} (run npm run build:widget first)`);
  return res.text();
}

/**
 * Tests that chunk `name` holds every one of `marks` (strings only its code has), and that neither
 * main bundle holds any of `marks` or `bundleMarks` (what the chunk's code has besides).
 */
export function builtApart(name: string, marks: string[], bundleMarks: string[] = []): void {
  for (const file of ['latch.iife.js', 'latch.js']) {
    it(`is not in dist/${file}, which loads its chunks from beside itself`, async () => {
      const bundle = await builtText(`/dist/${file}`);
      expect(bundle).to.match(/import\(`\.\/latch-\$\{\w+\}\.js`\)/);
      for (const mark of [...marks, ...bundleMarks]) expect(bundle, mark).not.to.contain(mark);
    });
  }
  it(`is in dist/latch-${name}.js, which imports nothing`, async () => {
    const chunk = await builtText(`/dist/latch-${name}.js`);
    for (const mark of marks) expect(chunk, mark).to.contain(mark);
    expect(chunk).not.to.match(/\bimport\b/);
    expect(chunk).to.match(/export\s*\{[^}]*\bas default\b|export default/);
  });
}
