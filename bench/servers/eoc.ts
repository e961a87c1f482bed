/**
 * The comparison: an Express 5 app with express-openid-connect's `auth()` in its default cookie-session
 * mode (an encrypted JWE `appSession` cookie, rolling, re-encrypted on every answer), and the
 * equivalent of the BFF's GET /me. Listens on 127.0.0.1:$PORT; the issuer is the bench's dev provider.
 *
 *   EOC_ISSUER, EOC_CLIENT_ID, EOC_CLIENT_SECRET, EOC_SECRET, EOC_SCOPE
 */
import express from 'express';
import { auth } from 'express-openid-connect';

const port = Number(process.env['PORT']);
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const app = express();
app.disable('x-powered-by');
app.use(
  auth({
    issuerBaseURL: env('EOC_ISSUER'),
    baseURL: `http://127.0.0.1:${port}`,
    clientID: env('EOC_CLIENT_ID'),
    clientSecret: env('EOC_CLIENT_SECRET'),
    secret: env('EOC_SECRET'),
    authRequired: false,
    idpLogout: false,
    authorizationParams: { response_type: 'code', scope: env('EOC_SCOPE') },
  }),
);

app.get('/', (_req, res) => {
  res.type('text').send('ok');
});

/** What the BFF's /me answers: the signed-in user's claims, or 401. */
app.get('/me', (req, res) => {
  if (!req.oidc.isAuthenticated()) {
    res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'Not signed in.' } });
    return;
  }
  res.json({ user: req.oidc.user });
});

app.listen(port, '127.0.0.1');

// Stopped by the bench with SIGTERM: exit at once (and write a --cpu-prof profile when asked for one).
process.once('SIGTERM', () => process.exit(0));
