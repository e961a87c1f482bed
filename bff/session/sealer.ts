import { createHash } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';

/**
 * Seals and opens values with iron (Fe26.2, via iron-session). Several
 * passwords, newest first: the newest seals, every one opens. Password ids
 * are derived from the passwords themselves, so adding a key never re-labels
 * the old ones.
 */
export class Sealer {
  readonly #passwords: Record<string, string>;
  readonly #current: { [id: string]: string };
  readonly #currentId: string;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('Sealer needs at least one secret');
    this.#passwords = {};
    for (const secret of secrets) this.#passwords[passwordId(secret)] = secret;
    this.#currentId = passwordId(secrets[0]!);
    this.#current = { [this.#currentId]: secrets[0]! };
  }

  seal(data: object, ttlSeconds: number): Promise<string> {
    return sealData(data as Record<string, unknown>, { password: this.#current, ttl: ttlSeconds });
  }

  /** The data, or null for anything that does not open: tampered, expired, unknown key, garbage. */
  async unseal<T extends object>(sealed: string, ttlSeconds: number): Promise<T | null> {
    if (!sealed.startsWith('Fe26.2*')) return null;
    try {
      const data = await unsealData<T>(sealed, { password: this.#passwords, ttl: ttlSeconds });
      return data && Object.keys(data).length > 0 ? data : null;
    } catch {
      return null;
    }
  }

  /** Whether a seal was made with an older key (and should be resealed with the newest). */
  isStale(sealed: string): boolean {
    // Fe26.2*<password id>*<salt>*...: the id is the second field.
    return sealed.split('*', 2)[1] !== this.#currentId;
  }

  /** The id iron writes for a secret (not secret itself): lets tests and tools tell keys apart. */
  static passwordId(secret: string): string {
    return passwordId(secret);
  }
}

/** A stable, numeric iron password id: not secret, as iron writes it in the clear. */
function passwordId(secret: string): string {
  return String(createHash('sha256').update(secret).digest().readUInt32BE(0));
}
