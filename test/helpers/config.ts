import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../bff/config.ts';
import { EnvReader } from '../../bff/config/env.ts';
import { ConfigError } from '../../bff/errors.ts';

/** A complete configuration for one https site (no provider settings). */
export const BASE_ENV = {
  LATCH_CLIENT_ID: 'web',
  LATCH_CLIENT_SECRET: 'client-secret',
  LATCH_BASE_URL: 'https://auth.example.com',
  LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
  LATCH_ALLOWED_ORIGINS: 'https://www.example.com,https://shop.example.com',
} as const;

/** The variables loadConfig names in its ConfigError, or [] when the environment is valid. */
export function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => p.variable);
  }
  return [];
}

/** The problems `read` finds through a reader over `env` (one section, or a few reads), as `VARIABLE: problem`. */
export function readerProblems(env: Record<string, string>, read: (reader: EnvReader) => void): string[] {
  const reader = EnvReader.of(env);
  read(reader);
  try {
    reader.throwIfProblems();
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.variable}: ${p.problem}`);
  }
}
