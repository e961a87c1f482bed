/**
 * Step-up authentication (issue 17, docs/providers.md "Step-up"): what a request needs beyond the
 * sign-in its session has, from three places, all answered the same way.
 *
 * - `/login?acr_values=…&max_age=…` asks the provider for it (OIDC Core 3.1.2.1), and `/callback`
 *   checks the ID token delivered it (`checkSignIn`): an `acr` among those asked, an `auth_time`
 *   within `max_age`. A provider that ignores the request (acr_values are only voluntary in OIDC)
 *   fails the sign-in with 400 LATCH_STEP_UP_FAILED, never a silent pass; so does a missing claim.
 * - An API route's LATCH_API_ROUTE_<NAME>_ACR / _MAX_AGE (`requireFor`), checked before anything
 *   goes upstream.
 * - An upstream's RFC 9470 challenge, `WWW-Authenticate: Bearer error="insufficient_user_authentication"`
 *   (`fromChallenge`).
 *
 * The last two answer 401 LATCH_STEP_UP_REQUIRED with `stepUp: { acr?, maxAge? }` in the body and the
 * RFC 9470 challenge in WWW-Authenticate, so a page (the widget's latch.fetch) signs in again with
 * those parameters. No Koa here.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { StepUpRequirement } from '../contract.ts';
import { LatchError } from '../errors.ts';

/** At most this many acr values are asked for or accepted: a page or a challenge cannot make a huge cookie. */
const MAX_ACR_VALUES = 8;
/** An acr value is a URI or a short name (RFC 9470 §3 takes them from the OIDC registry or the deployment). */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** All of them together, characters. */
const MAX_ACR_CHARS = 512;
/** max_age above ten years asks nothing of anyone. */
const MAX_MAX_AGE_S = 10 * 365 * 24 * 3600;
/** The clocks of the provider and of the BFF may differ by this much (as for the ID token's iat). */
const CLOCK_TOLERANCE_S = 30;

/** What a session carries of its sign-in (session/session.ts `acr`, `ath`). */
export interface SignInLevel {
  acr?: string | undefined;
  /** auth_time, epoch seconds. */
  ath?: number | undefined;
}

/** `acr_values` (space-separated, or a list from the configuration): the values, or null when any one is not an acr value. */
export function parseAcrValues(raw: string): string[] | null {
  // Bounded as a whole too: the values ride in the sign-in's transaction cookie (see routes/login.ts MAX_RETURN_TO_LENGTH).
  if (raw.length > MAX_ACR_CHARS) return null;
  const values = [...new Set(raw.split(/[\s,]+/).filter(Boolean))];
  if (values.length === 0 || values.length > MAX_ACR_VALUES || !values.every((v) => ACR_VALUE.test(v))) return null;
  return values;
}

/** `max_age`: whole seconds from 0 to ten years, or null. */
export function parseMaxAge(raw: string): number | null {
  if (!/^\d{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n <= MAX_MAX_AGE_S ? n : null;
}

/**
 * `/login`'s `acr_values` and `max_age`, checked: 400 LATCH_BAD_REQUEST for a malformed one (the page
 * asked for something; dropping it would sign in below what it asked). Empty when neither is given.
 */
export function loginStepUp(query: URLSearchParams): StepUpRequirement {
  const acrRaw = query.get('acr_values');
  const maxAgeRaw = query.get('max_age');
  const out: StepUpRequirement = {};
  if (acrRaw !== null && acrRaw !== '') {
    const acr = parseAcrValues(acrRaw);
    if (!acr) throw new LatchError('LATCH_BAD_REQUEST', { detail: `acr_values must be at most ${MAX_ACR_VALUES} space-separated values of printable characters, ${MAX_ACR_CHARS} in all.` });
    out.acr = acr;
  }
  if (maxAgeRaw !== null && maxAgeRaw !== '') {
    const maxAge = parseMaxAge(maxAgeRaw);
    if (maxAge === null) throw new LatchError('LATCH_BAD_REQUEST', { detail: 'max_age must be whole seconds.' });
    out.maxAge = maxAge;
  }
  return out;
}

/** The authorization parameters of a step-up sign-in (OIDC Core 3.1.2.1). */
export function authorizeParams(need: StepUpRequirement): Record<string, string> {
  return {
    ...(need.acr ? { acr_values: need.acr.join(' ') } : {}),
    ...(need.maxAge !== undefined ? { max_age: String(need.maxAge) } : {}),
  };
}

/** What `level` lacks of `need`, or null when it meets it. A missing `acr` or `auth_time` meets nothing asked of it. */
export function shortfall(level: SignInLevel, need: StepUpRequirement, nowS = Date.now() / 1000): StepUpRequirement | null {
  const acrShort = need.acr !== undefined && (level.acr === undefined || !need.acr.includes(level.acr));
  const ageShort = need.maxAge !== undefined && (level.ath === undefined || nowS - level.ath > need.maxAge + CLOCK_TOLERANCE_S);
  if (!acrShort && !ageShort) return null;
  // Both parts are asked again: a new sign-in for one must not lose the other.
  return need;
}

/**
 * The callback's check of a step-up sign-in: the ID token's `acr` among those asked, its `auth_time`
 * within `max_age` (and not in the future). Throws 400 LATCH_STEP_UP_FAILED naming, for the log, what
 * the provider delivered.
 */
export function checkSignIn(asked: { acr?: string[] | undefined; maxAge?: number | undefined }, got: { acr?: string | undefined; authTime?: number | undefined }, nowS = Date.now() / 1000): void {
  const need: StepUpRequirement = { ...(asked.acr ? { acr: asked.acr } : {}), ...(asked.maxAge !== undefined ? { maxAge: asked.maxAge } : {}) };
  if (need.acr === undefined && need.maxAge === undefined) return;
  const future = got.authTime !== undefined && got.authTime > nowS + CLOCK_TOLERANCE_S;
  if (future || shortfall({ acr: got.acr, ath: got.authTime }, need, nowS)) {
    throw new LatchError('LATCH_STEP_UP_FAILED', {
      detail: `Asked acr ${need.acr?.join(' ') ?? '(any)'} and max_age ${need.maxAge ?? '(any)'}; the ID token has acr ${got.acr ?? '(none)'} and auth_time ${got.authTime ?? '(none)'}.`,
    });
  }
}

/** 401 LATCH_STEP_UP_REQUIRED for `need`: its body's `stepUp`, and RFC 9470's challenge. */
export function stepUpRequired(need: StepUpRequirement, detail: string): LatchError {
  const parts = ['Bearer error="insufficient_user_authentication"'];
  if (need.acr) parts.push(`acr_values="${need.acr.join(' ')}"`);
  if (need.maxAge !== undefined) parts.push(`max_age=${need.maxAge}`);
  return new LatchError('LATCH_STEP_UP_REQUIRED', { detail, headers: { 'WWW-Authenticate': parts.join(', ') }, body: { stepUp: need } });
}

/** An API route's requirement (LATCH_API_ROUTE_<NAME>_ACR, _MAX_AGE): refused before the call when the session falls short. */
export function requireFor(route: { name: string; acr?: readonly string[]; maxAge?: number }, session: SignInLevel, nowS = Date.now() / 1000): void {
  if (route.acr === undefined && route.maxAge === undefined) return;
  const need: StepUpRequirement = { ...(route.acr ? { acr: [...route.acr] } : {}), ...(route.maxAge !== undefined ? { maxAge: route.maxAge } : {}) };
  if (shortfall(session, need, nowS)) throw stepUpRequired(need, `API route "${route.name}" needs a stronger or more recent sign-in.`);
}

/**
 * An upstream's 401 with RFC 9470's challenge, as the 401 LATCH_STEP_UP_REQUIRED to pass back; null
 * for any other answer, a malformed challenge included (that is a plain upstream 401). Several
 * challenges may share one header, or come in several: the Bearer one with
 * `error="insufficient_user_authentication"` counts. Its acr_values and max_age, when well formed,
 * become the body's `stepUp`; an ill-formed parameter makes the whole challenge not one.
 */
export function fromChallenge(status: number | undefined, headers: IncomingHttpHeaders): LatchError | null {
  if (status !== 401) return null;
  const raw = headers['www-authenticate'];
  if (raw === undefined || raw.length > 4096) return null;
  for (const challenge of splitChallenges(raw)) {
    if (challenge.scheme !== 'bearer' || challenge.params.get('error') !== 'insufficient_user_authentication') continue;
    const need: StepUpRequirement = {};
    const acr = challenge.params.get('acr_values');
    const maxAge = challenge.params.get('max_age');
    if (acr !== undefined) {
      const values = parseAcrValues(acr);
      if (!values) return null;
      need.acr = values;
    }
    if (maxAge !== undefined) {
      const seconds = parseMaxAge(maxAge);
      if (seconds === null) return null;
      need.maxAge = seconds;
    }
    return stepUpRequired(need, 'The API asked for a stronger or more recent sign-in (RFC 9470).');
  }
  return null;
}

/**
 * The upstream's answer, unless it is a 401 with RFC 9470's challenge: then it is drained and dropped,
 * and the promise rejects with the 401 LATCH_STEP_UP_REQUIRED to pass back (the proxy's one hook).
 */
export async function refuseOnChallenge(answer: Promise<IncomingMessage>): Promise<IncomingMessage> {
  const res = await answer;
  const stepUp = fromChallenge(res.statusCode, res.headers);
  if (!stepUp) return res;
  res.resume();
  res.destroy();
  throw stepUp;
}

interface Challenge {
  scheme: string;
  params: Map<string, string>;
}

/**
 * RFC 9110 §11.6.1's challenges, leniently: `scheme param=value, param="quoted, \"value\"", other-scheme …`.
 * A parameter seen twice spoils its challenge (an attacker's second error= must not win); anything
 * unparsable ends the parse with what was read so far.
 */
function splitChallenges(raw: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  let current: Challenge | null = null;
  let spoiled = false;
  const blanks = () => {
    while (raw[i] === ' ' || raw[i] === '\t') i++;
  };
  const token = (): string | null => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(raw.slice(i, i + 512));
    if (!m) return null;
    i += m[0].length;
    return m[0];
  };
  const close = () => {
    if (current && !spoiled) out.push(current);
  };
  while (i < raw.length) {
    while (i < raw.length && /[\s,]/.test(raw[i]!)) i++;
    const name = token();
    if (name === null) break;
    blanks();
    if (raw[i] !== '=' || current === null) {
      // A new challenge's scheme.
      close();
      current = { scheme: name.toLowerCase(), params: new Map() };
      spoiled = false;
      continue;
    }
    i++;
    blanks();
    let value: string | null = null;
    if (raw[i] === '"') {
      let v = '';
      for (i++; i < raw.length; i++) {
        const c = raw[i]!;
        if (c === '\\' && i + 1 < raw.length) v += raw[++i];
        else if (c === '"') {
          value = v;
          i++;
          break;
        } else v += c;
      }
    } else if (i >= raw.length || raw[i] === '=' || raw[i] === ',') {
      // A token68's padding (`Negotiate abc==`): no parameter.
      while (raw[i] === '=') i++;
      continue;
    } else {
      value = token();
    }
    if (value === null) {
      spoiled = true;
      break;
    }
    const key = name.toLowerCase();
    if (current.params.has(key)) spoiled = true;
    current.params.set(key, value);
  }
  close();
  return out;
}
