/**
 * The rule a cookie secret (LATCH_COOKIE_SECRET) must pass at start-up (docs/configuration.md). A
 * secret that fails it stops the process, with the variable's name and how to make a good one.
 *
 * 1. At least 32 characters (iron's own minimum for a password).
 * 2. No placeholder: lower-cased and with everything but letters and digits removed, it contains none
 *    of PLACEHOLDERS (`changeme`, `secret`, `password`, …). Words of six letters or more only, so that a
 *    random secret trips it about once in 20 million (a 43-character base64url one: 38 places, 32^-6
 *    each for a six-letter word, case folded; hex has no such letters).
 * 3. At least MIN_SECRET_BITS of estimated entropy, counted so that repetition and small alphabets
 *    earn nothing:
 *    - the secret is cut to its shortest repeating unit (`abcdabcd…` counts as `abcd`);
 *    - each character earns log2 of the alphabet, the smaller of the size of its character classes
 *      (26 lower, 26 upper, 10 digits, 33 others) and the number of distinct characters in the unit;
 *    - a character that continues a run of equal steps of at most one (`aaa`, `abc`, `987`) earns 1 bit.
 *    A random secret from `openssl rand -hex 32` (64 characters) earns about 250 bits, from
 *    `openssl rand -base64 32` or 32 random bytes in base64url about 215 (the lowest of 20,000 of
 *    each: 227 and 189);
 *    32 × `a` earns 0, `0123456789` four times over about 15. Sixteen random bytes in hex (32
 *    characters of 16 kinds) earn about 120 and are refused: use 32 bytes.
 *
 * It is an estimate: it cannot tell a memorable phrase from a random string of the same letters. It
 * catches placeholders, repetition and small alphabets; a good secret is generated, never typed.
 */

export const MIN_SECRET_LENGTH = 32;
export const MIN_SECRET_BITS = 128;
/** What the error message tells the operator to run. */
export const GENERATE_SECRET = 'openssl rand -hex 32';

const PLACEHOLDERS = ['changeme', 'changethis', 'replaceme', 'placeholder', 'secret', 'password', 'passwd', 'example', 'default', 'insecure', 'sample', 'letmein', 'qwerty'];

/** Why `secret` is not good enough, or undefined when it passes the rule above. */
export function secretWeakness(secret: string): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  const folded = secret.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (PLACEHOLDERS.some((word) => folded.includes(word))) return `looks like a placeholder (it contains a word such as ${PLACEHOLDERS.slice(0, 3).join(', ')})`;
  const bits = estimatedBits(secret);
  if (bits < MIN_SECRET_BITS) return `is too predictable (about ${Math.floor(bits)} bits by Latch's estimate, ${MIN_SECRET_BITS} needed: repeated, sequential or few distinct characters)`;
  return undefined;
}

/** Estimated entropy of `secret`, bits (rule 3 above). */
export function estimatedBits(secret: string): number {
  const unit = [...secret.slice(0, shortestPeriod(secret))];
  const alphabet = Math.min(classPool(unit), new Set(unit).size);
  const perChar = alphabet > 1 ? Math.log2(alphabet) : 0;
  let bits = 0;
  for (let i = 0; i < unit.length; i++) {
    const step = i >= 1 ? code(unit[i]!) - code(unit[i - 1]!) : NaN;
    const before = i >= 2 ? code(unit[i - 1]!) - code(unit[i - 2]!) : NaN;
    bits += step === before && Math.abs(step) <= 1 ? Math.min(1, perChar) : perChar;
  }
  return bits;
}

const code = (c: string) => c.codePointAt(0)!;

/** The length of the shortest unit that `s` repeats (a prefix of it, the last repetition maybe cut short). */
function shortestPeriod(s: string): number {
  for (let p = 1; p < s.length; p++) {
    let repeats = true;
    for (let i = p; i < s.length && repeats; i++) repeats = s[i] === s[i - p];
    if (repeats) return p;
  }
  return s.length;
}

/** The size of the character classes `chars` draw from. */
function classPool(chars: readonly string[]): number {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/];
  const sizes = [26, 26, 10];
  let pool = 0;
  classes.forEach((re, i) => {
    if (chars.some((c) => re.test(c))) pool += sizes[i]!;
  });
  if (chars.some((c) => !/[a-zA-Z0-9]/.test(c))) pool += 33;
  return pool;
}
