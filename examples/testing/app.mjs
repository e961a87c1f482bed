// The application under test, started in the test's own process: the test provider with two users,
// the BFF (latch/bff) configured for it, and a one-page microsite that shows the widget. In your
// project the BFF and the site are yours; only startTestProvider() and mintSession() come from Latch.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { loadConfig, startServer } from 'latch/bff';
import { startTestProvider } from 'latch/testing';

/** Listens on 127.0.0.1 and a free port; resolves the server and its URL. */
function listen(handler) {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

export async function startApp() {
  // The site first: the BFF must know its origin (LATCH_ALLOWED_ORIGINS) and the site the BFF's URL.
  let bffUrl = '';
  const site = await listen((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script type="module" src="${bffUrl}/latch.js"></script></head>
<body>
  <latch-login bff="${bffUrl}"></latch-login>
  <latch-gate><p>Hello, <latch-user></latch-user>.</p><p slot="anonymous">Sign in to see your orders.</p></latch-gate>
</body></html>`);
  });
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  bffUrl = `http://127.0.0.1:${port}`;

  const provider = await startTestProvider({
    bffUrl,
    postLogoutRedirectUris: [`${site.url}/`],
    users: [
      { login: 'ada@example.test', name: 'Ada Lovelace', claims: { roles: ['admin'] } },
      { login: 'grace@example.test', name: 'Grace Hopper', password: 'correct horse battery staple' },
    ],
  });
  const env = {
    ...provider.env,
    LATCH_BASE_URL: bffUrl,
    LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
    LATCH_ALLOWED_ORIGINS: site.url,
    LATCH_POST_LOGOUT_REDIRECT_URI: `${site.url}/`,
    LATCH_LOG_LEVEL: 'warn',
    PORT: String(port),
  };
  const bff = await startServer(loadConfig(env));
  return {
    provider,
    env,
    bffUrl,
    siteUrl: `${site.url}/`,
    async close() {
      await bff.shutdown(1000);
      await provider.close();
      site.server.closeAllConnections();
      await new Promise((resolve) => site.server.close(resolve));
    },
  };
}
