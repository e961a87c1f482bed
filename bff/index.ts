/** The BFF's public surface: named exports only. */
export { createBff, providerFromConfig, type Bff, type BffOptions } from './app.ts';
export { loadConfig, type BffConfig } from './config.ts';
export { LatchError, ConfigError } from './errors.ts';
export type * from './contract.ts';
export type { Provider, LoginTransaction, TokenSet, SignInResult, RefreshResult } from './providers/provider.ts';
