/// <reference types="mocha" />
import type { AxeResults } from 'axe-core';
import { emulateMedia } from '@web/test-runner-commands';

declare global {
  interface Window {
    axe?: { run(context: Node, options: object): Promise<AxeResults> };
  }
}

/** Loads axe-core into the test page once. */
export async function loadAxe(): Promise<void> {
  if (window.axe) return;
  const script = document.createElement('script');
  script.src = '/node_modules/axe-core/axe.min.js';
  const loaded = new Promise((resolve, reject) => {
    script.onload = resolve;
    script.onerror = reject;
  });
  document.head.append(script);
  await loaded;
}

/** axe-core over the whole page (shadow roots included): the violations, as readable lines. */
export async function violations(): Promise<string[]> {
  const results = await window.axe!.run(document, {
    runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
    // A test page, not a site: it has no landmarks or heading of its own.
    rules: { region: { enabled: false }, 'page-has-heading-one': { enabled: false } },
  });
  return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * The hooks of a suite that runs axe: a page title and axe first, `reset` (fake-bff.ts's: a fresh
 * page) before each test and at the end, and the light scheme back after each.
 */
export function axeSuite(reset: () => void): void {
  before(async () => {
    document.title = 'Latch widget';
    await loadAxe();
  });
  beforeEach(reset);
  afterEach(() => emulateMedia({ colorScheme: 'light' }));
  after(reset);
}
