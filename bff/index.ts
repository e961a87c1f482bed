/** The BFF's public surface: named exports only. */
export { createBff, providerFromConfig, type Bff, type BffOptions } from './app.ts';
export { loadConfig, type BffConfig, type SiteConfig } from './config.ts';
export { LatchError, ConfigError } from './errors.ts';
export type * from './contract.ts';
export type { Provider, LoginTransaction, TokenSet, SignInResult, RefreshResult } from './providers/provider.ts';
export { type ApiRoute } from './config.ts';
export { requireToken, type RequireTokenOptions, type AccessTokenState } from './resource/require-token.ts';
export {
  verifyAccessToken,
  createAccessTokenVerifier,
  readBearerToken,
  readAccessToken,
  tokenScopes,
  AccessTokenError,
  type AccessTokenOptions,
  type AccessTokenVerifier,
  type AccessTokenErrorCode,
  type VerifiedAccessToken,
  type TokenScheme,
} from './resource/verify.ts';
export type { DpopPresentation } from './resource/dpop.ts';
export {
  createServiceTokens,
  type ServiceTokens,
  type ServiceToken,
  type ServiceTokenRequest,
  type ServiceTokensOptions,
} from './oauth/service-token.ts';
export { startServer, runServer, SHUTDOWN_GRACE_MS, type ServerHandle } from './server.ts';
export { createLambdaHandler, toLambdaHandler, type LambdaHandler, type LambdaEvent, type LambdaResult, type LambdaAdapterOptions } from './lambda.ts';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.ts';
export type { ReadinessCheck } from './routes/deps.ts';
