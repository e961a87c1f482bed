/**
 * Helpers for writing a run's results: which commit measured it, and the generated part of a doc
 * (between `<!-- NAME:start -->` and `<!-- NAME:end -->`). bench/run.ts has its own copies, from
 * before this file; they can move here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The short commit, and whether bff/ differs from it (then the figures are of uncommitted code). */
export function gitDescribe(root: string): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'bff', 'widget'], { cwd: root, encoding: 'utf8' }).stdout.trim() !== '';
  return head ? `${head}${dirty ? ' (bff/ or widget/ has uncommitted changes)' : ''}` : 'unknown';
}

/** Replaces what lies between the `<!-- marker:start -->` and `<!-- marker:end -->` lines of `file`. */
export function replaceBetweenMarkers(file: string, marker: string, md: string): void {
  if (!existsSync(file)) return;
  const doc = readFileSync(file, 'utf8');
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no ${start} … ${end} section`);
  writeFileSync(file, `${doc.slice(0, i + start.length)}\n${md.trim()}\n${doc.slice(j)}`);
}
