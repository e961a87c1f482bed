/**
 * Pushed authorization requests (PAR, RFC 9126): the authorization request goes to the server over
 * the back channel, client-authenticated, and the browser is sent with only `client_id` and the
 * `request_uri` the server answered. Nothing of the request (scopes, PKCE challenge, state, nonce,
 * login_hint, organization_id, step-up's acr_values and max_age) travels through the browser, where
 * it could be read or changed. oauth4webapi sends the request and checks the answer.
 */
import * as oauth from 'oauth4webapi';
import { outbound, requestOptions, type OutboundOptions } from './outbound.ts';

/**
 * Pushes the parameters of `request` (an authorization URL built as for the front channel) and
 * returns the URL the browser goes to instead: the authorization endpoint with `client_id` and
 * `request_uri` only. Empty parameters are left out.
 */
export async function pushAuthorizationRequest(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  request: URL,
  out: OutboundOptions,
): Promise<URL> {
  const params = new URLSearchParams([...request.searchParams].filter(([, value]) => value !== ''));
  const pushed = await outbound(out, 'pushed authorization', async () => {
    const response = await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, requestOptions(out));
    return oauth.processPushedAuthorizationResponse(as, client, response);
  });
  const url = new URL(request.origin + request.pathname);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('request_uri', pushed.request_uri);
  return url;
}
