/**
 * Step-up: `latch.stepUp({ acr, maxAge })`, and `latch.fetch()` answered 401 LATCH_STEP_UP_REQUIRED
 * (with the body's `stepUp`). A sign-in at the session's provider with `acr_values` (space-separated)
 * and `max_age`, in a popup while the page stays as it is, or, where the browser opens no popup, a
 * redirect that comes back to this page (its returnTo). The BFF's callback checks that the ID token's
 * `acr` and `auth_time` meet them (else LATCH_STEP_UP_FAILED). `latch-step-up` says what happened:
 * `started`, then `done`, `failed` or `cancelled` (the popup was closed). After `done`, `latch.fetch()`
 * calls again, once, if it can send the body again (not a stream).
 *
 * Any other 401 of `latch.fetch()` makes the session check `/me` again.
 *
 * Not in the bundle (dist/latch-stepup.js): loaded at the first `latch.stepUp()`, or the first 401 of
 * `latch.fetch()` (only the body says whether it asks for a step-up).
 */
import type { StepUpErrorBody, StepUpRequirement } from '../../bff/contract.ts';
import { loginUrl, reauth } from '../client/reauth.ts';
import type { LatchStepUpOptions, LatchStepUpOutcome } from '../client/session.ts';
import { emit } from '../events.ts';
import type { LatchPort } from '../port.ts';

/**
 * `latch.stepUp(options)`: the outcome (never, when the page leaves for a redirect). Or, for a 401
 * `res` of `latch.fetch()`: the answer to give (`again()`'s after a step-up, else `res`).
 */
export type StepUp = (
  port: LatchPort,
  asked: LatchStepUpOptions | Response,
  again?: () => Promise<Response>,
  init?: RequestInit,
) => Promise<LatchStepUpOutcome | Response>;

/** Signs in again as `acr` and `maxAge` ask. */
async function stepUp(port: LatchPort, { acr, maxAge }: LatchStepUpOptions): Promise<LatchStepUpOutcome> {
  const need: StepUpRequirement = {};
  if (acr?.length) need.acr = ([] as string[]).concat(acr);
  if (maxAge != null) need.maxAge = maxAge;
  const say = (outcome: 'started' | LatchStepUpOutcome) => emit(port.target(), 'step-up', { ...need, outcome });
  const params = {
    acr_values: need.acr?.join(' '),
    max_age: need.maxAge?.toString(),
    provider: port.state.provider ?? undefined,
  };
  say('started');
  const outcome = await reauth(port, params);
  if (outcome == 'blocked') {
    port.io.go(loginUrl(port, params));
    return new Promise<never>(() => {});
  }
  say(outcome);
  return outcome;
}

const chunk: StepUp = async (port, asked, again, init) => {
  if (!(asked instanceof Response)) return stepUp(port, asked);
  const body = (await asked.clone().json().catch(() => null)) as StepUpErrorBody | null;
  if (body?.error?.code != 'LATCH_STEP_UP_REQUIRED') {
    void port.refresh();
    return asked;
  }
  const outcome = await stepUp(port, body.stepUp ?? {});
  return outcome == 'done' && again && !(init?.body instanceof ReadableStream) ? again() : asked;
};

export default chunk;
