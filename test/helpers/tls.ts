/**
 * Test-only TLS: a throwaway certificate authority and one leaf certificate for the host names a
 * test uses, made at test time with Debian's `openssl` (no keys are checked in). Chromium is told
 * to accept the leaf by its public key (`--ignore-certificate-errors-spki-list`), so the pages are
 * real secure contexts (Secure and Partitioned cookies, crypto.subtle) without touching any trust
 * store.
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolSuiteOptions } from './net.ts';

const run = promisify(execFile);

export const OPENSSL_PATH: string = process.env.LATCH_OPENSSL ?? '/usr/bin/openssl';

export function opensslAvailable(): boolean {
  try {
    accessSync(OPENSSL_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** node:test `describe` options: skip loudly without openssl (fail under CI=true). */
export function opensslSuiteOptions(): { skip?: string } {
  return toolSuiteOptions(`openssl at ${OPENSSL_PATH}`, opensslAvailable(), 'apt-get install openssl, or set LATCH_OPENSSL');
}

export interface TestCertificates {
  /** The leaf's private key and certificate chain (leaf, then CA), PEM: pass to https.createServer. */
  key: string;
  cert: string;
  /** The CA certificate, PEM (for Node clients: `ca`). */
  ca: string;
  /** base64(SHA-256(SubjectPublicKeyInfo)) of the leaf: the value for --ignore-certificate-errors-spki-list. */
  spki: string;
  /** Chromium flags that make it accept the leaf. */
  chromiumArgs: string[];
}

/**
 * A CA and a leaf for `names` (DNS names, wildcards allowed, e.g. `*.latch.test`), valid for a day.
 * P-256 keys: quick to make (a few ms each).
 */
export async function makeCertificates(names: readonly string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'latch-tls-'));
  const at = (file: string) => join(dir, file);
  const openssl = (...args: string[]) => run(OPENSSL_PATH, args, { cwd: dir });
  try {
    await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', at('ca.key'));
    await openssl('req', '-x509', '-new', '-key', at('ca.key'), '-sha256', '-days', '1', '-subj', '/CN=Latch test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', at('ca.crt'));
    await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', at('leaf.key'));
    await openssl('req', '-new', '-key', at('leaf.key'), '-subj', '/CN=latch test', '-out', at('leaf.csr'));
    await writeFile(at('leaf.ext'), [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '',
    ].join('\n'));
    await openssl('x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-days', '1', '-sha256', '-extfile', at('leaf.ext'), '-out', at('leaf.crt'));
    const [key, leaf, ca] = await Promise.all([readFile(at('leaf.key'), 'utf8'), readFile(at('leaf.crt'), 'utf8'), readFile(at('ca.crt'), 'utf8')]);
    const der = createPublicKey(leaf).export({ type: 'spki', format: 'der' });
    const spki = createHash('sha256').update(der).digest('base64');
    return { key, cert: leaf + ca, ca, spki, chromiumArgs: [`--ignore-certificate-errors-spki-list=${spki}`] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
