/** Just enough of a Dockerfile parser for the container test: stages, and the instructions of each. */
import { readFileSync } from 'node:fs';

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(path: string): Stage[] {
  const text = readFileSync(path, 'utf8');
  // Join continuation lines; drop comments and blank lines.
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // a comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());

  const stages: Stage[] = [];
  // ARGs before the first FROM: their defaults fill in FROM lines (`FROM ${NODE_IMAGE}`), as Docker does.
  const globals = new Map<string, string>();
  for (const line of logical) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (keyword === 'FROM') {
      const image = args.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a?: string, b?: string) => globals.get((a ?? b)!) ?? all);
      const from = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(image)!;
      stages.push({ from: from[1]!, ...(from[2] ? { name: from[2] } : {}), instructions: [] });
      continue;
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const arg = /^(\w+)=(\S*)$/.exec(args);
      if (arg) globals.set(arg[1]!, arg[2]!);
      continue;
    }
    stages.at(-1)?.instructions.push({ keyword, args });
  }
  return stages;
}

export function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

export function last(stage: Stage, keyword: string): string | undefined {
  return all(stage, keyword).at(-1);
}

/** The JSON array of an exec-form CMD/ENTRYPOINT (HEALTHCHECK: after its options and `CMD`). */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** ENV KEY=VALUE [KEY=VALUE...] (and the old `ENV KEY VALUE`), in order. */
export function env(stage: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    if (!args.includes('=')) {
      const [key, ...rest] = args.split(/\s+/);
      out[key!] = rest.join(' ');
      continue;
    }
    for (const m of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const value = m[2]!;
      out[m[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
  }
  return out;
}
