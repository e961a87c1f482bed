import type { Logger } from 'pino';
import type { BffConfig } from '../config.ts';
import type { Provider } from '../providers/provider.ts';
import type { SessionManager } from '../session/manager.ts';
import type { SessionRefresher } from '../session/refresh.ts';

/** What every route is handed by createBff. Routes never import each other. */
export interface RouteDeps {
  config: BffConfig;
  provider: Provider;
  sessions: SessionManager;
  refresher: SessionRefresher;
  logger: Logger;
}
