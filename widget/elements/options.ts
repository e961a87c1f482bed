import type { LatchLoginMode, LatchLoginOptions } from '../client/session.ts';

/** The sign-in options `<latch-login>`'s attributes ask for (read by the element and by the chunks that sign in from it). */
export function optionsOf(el: Element): LatchLoginOptions {
  const a = (name: string) => el.getAttribute(name) || undefined;
  return {
    mode: a('mode') as LatchLoginMode | undefined,
    returnTo: a('return-to'),
    loginHint: a('login-hint'),
    organization: a('organization'),
    connection: a('connection'),
    prompt: a('prompt') as LatchLoginOptions['prompt'],
    provider: a('provider'),
  };
}
