/**
 * The OpenID Foundation conformance suite's relying-party ("client") test modules, by their
 * `testName`, with the plans that run them, as the suite's source defines them
 * (openid-certification/conformance-suite, src/main/java/net/openid/conformance/openid/client/,
 * the *TestPlan classes there and in logout/plan/). Facts only: names, plans, and what each module's
 * server does; the outcomes are ours.
 *
 * `mirror` names the battery file whose test of that name mirrors the module; modules that do not
 * apply to a server-side code-flow RP have `notApplicable`, the reason docs/conformance.md gives.
 * catalogue.test.ts holds this list, the battery and docs/conformance.md to each other.
 */

export type Plan = 'Basic RP' | 'Config RP' | 'RP-Initiated Logout RP' | 'Back-Channel Logout RP' | 'Refresh Token RP' | 'full client test plan' | 'other plans';

export interface ConformanceModule {
  name: string;
  plans: Plan[];
  /** The battery file mirroring it. */
  mirror?: 'basic-rp' | 'config-rp' | 'logout-rp' | 'more-rp';
  notApplicable?: string;
}

const FULL: Plan = 'full client test plan';

export const MODULES: ConformanceModule[] = [
  // Basic RP (OIDCCClientBasicTestPlan), in the plan's order.
  { name: 'oidcc-client-test', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-invalid-iss', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-missing-sub', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-invalid-aud', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-missing-iat', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-kid-absent-single-jwks', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-kid-absent-multiple-jwks', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-idtoken-sig-rs256', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-idtoken-sig-none', plans: ['Basic RP', 'Config RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-invalid-sig-rs256', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-userinfo-invalid-sub', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-nonce-invalid', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-scope-userinfo-claims', plans: ['Basic RP', FULL], mirror: 'basic-rp' },
  { name: 'oidcc-client-test-client-secret-basic', plans: ['Basic RP', FULL], mirror: 'basic-rp' },

  // Config RP (OIDCCClientConfigTestPlan); idtoken-sig-none is above.
  { name: 'oidcc-client-test-discovery-openid-config', plans: ['Config RP', FULL], mirror: 'config-rp' },
  { name: 'oidcc-client-test-discovery-jwks-uri-keys', plans: ['Config RP', FULL], mirror: 'config-rp' },
  { name: 'oidcc-client-test-discovery-issuer-mismatch', plans: ['Config RP', FULL], mirror: 'config-rp' },
  { name: 'oidcc-client-test-signing-key-rotation-just-before-signing', plans: ['Config RP', FULL], mirror: 'config-rp' },
  { name: 'oidcc-client-test-signing-key-rotation', plans: ['Config RP', FULL], mirror: 'config-rp' },

  // RP-Initiated Logout RP (OIDCCClientRPInitiatedLogoutRPBasicTestPlan).
  { name: 'oidcc-client-test-rp-init-logout', plans: ['RP-Initiated Logout RP'], mirror: 'logout-rp' },
  {
    name: 'oidcc-client-test-rp-init-logout-other-state',
    plans: ['RP-Initiated Logout RP'],
    notApplicable: 'The module tests what an RP does with a `state` it sent to the end-session endpoint; the suite skips it when the RP sends none. The BFF sends none: logout is complete (cookie cleared, session deny-listed, tokens revoked) before the browser leaves, and the post-logout redirect lands on the microsite, not on the BFF. logout-rp.test.ts checks that no state is sent.',
  },
  {
    name: 'oidcc-client-test-rp-init-logout-no-state',
    plans: ['RP-Initiated Logout RP'],
    notApplicable: 'As rp-init-logout-other-state: skipped by the suite for an RP that sends no `state`, which the BFF does not.',
  },

  // Back-Channel Logout RP (OIDCCClientBackChannelLogoutRPBasicTestPlan).
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-alg-none', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-no-event', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },
  { name: 'oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss', plans: ['Back-Channel Logout RP'], mirror: 'logout-rp' },

  // Refresh Token RP (OIDCCClientRefreshTokenProfileTestPlan).
  { name: 'oidcc-client-test-refresh-token', plans: ['Refresh Token RP'], mirror: 'more-rp' },
  { name: 'oidcc-client-test-refresh-token-invalid-issuer', plans: ['Refresh Token RP'], mirror: 'more-rp' },
  { name: 'oidcc-client-test-refresh-token-invalid-sub', plans: ['Refresh Token RP'], mirror: 'more-rp' },

  // The rest of the full client test plan (OIDCCClientTestPlan).
  { name: 'oidcc-client-test-missing-aud', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-userinfo-bearer-header', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-userinfo-signed', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-invalid-sig-hs256', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-invalid-sig-es256', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-aggregated-claims', plans: [FULL], mirror: 'more-rp' },
  { name: 'oidcc-client-test-distributed-claims', plans: [FULL], mirror: 'more-rp' },
  {
    name: 'oidcc-client-test-userinfo-bearer-body',
    plans: [FULL],
    notApplicable: 'An alternative to userinfo-bearer-header (the profile accepts either; the Basic RP plan runs neither on its own). The BFF sends the access token in the Authorization header only, never in a body or query.',
  },
  {
    name: 'oidcc-client-test-nonce-unless-code-flow',
    plans: [FULL],
    notApplicable: 'Not applicable to response_type=code (the suite\'s own variant rule). The BFF sends a nonce on every code-flow sign-in anyway, and checks it.',
  },
  {
    name: 'oidcc-client-test-missing-chash',
    plans: [FULL],
    notApplicable: 'c_hash exists only for ID tokens from the authorization endpoint (hybrid flows); the suite runs it for "code id_token" and "code id_token token" only. The BFF uses the code flow: its ID token comes from the token endpoint.',
  },
  {
    name: 'oidcc-client-test-invalid-chash',
    plans: [FULL],
    notApplicable: 'As missing-chash: hybrid flows only.',
  },
  {
    name: 'oidcc-client-test-missing-athash',
    plans: [FULL],
    notApplicable: 'at_hash is required only when the authorization endpoint returns an access token (implicit and hybrid "… token" flows); the suite skips it for response_type=code.',
  },
  {
    name: 'oidcc-client-test-invalid-athash',
    plans: [FULL],
    notApplicable: 'As missing-athash: the suite skips it for response_type=code.',
  },
  {
    name: 'oidcc-client-test-form-post-error',
    plans: [FULL],
    notApplicable: 'Runs only with response_mode=form_post. The BFF uses the default query response mode (its callback is a GET; an authorization-server error comes back as `latch_error=` on the page).',
  },
  {
    name: 'oidcc-client-test-mtls-endpoint-aliases',
    plans: [FULL],
    notApplicable: 'Runs only for mutual-TLS client authentication. The BFF authenticates with client_secret_basic or client_secret_post.',
  },
  {
    name: 'oidcc-client-test-discovery-webfinger-acct',
    plans: [FULL],
    notApplicable: 'WebFinger issuer discovery from a user-typed identifier. A BFF serves one configured issuer (LATCH_ISSUER); users never type one.',
  },
  {
    name: 'oidcc-client-test-discovery-webfinger-url',
    plans: [FULL],
    notApplicable: 'As discovery-webfinger-acct.',
  },
  {
    name: 'oidcc-client-test-dynamic-registration',
    plans: [FULL],
    notApplicable: 'Runs only for dynamically registered clients. The BFF is a statically registered client (LATCH_CLIENT_ID, LATCH_CLIENT_SECRET).',
  },
  {
    name: 'oidcc-client-test-request-uri-signed-rs256',
    plans: [FULL],
    notApplicable: 'Runs only for clients that pass request objects by reference (request_uri). The BFF sends plain authorization requests.',
  },
  {
    name: 'oidcc-client-test-request-uri-signed-none',
    plans: [FULL],
    notApplicable: 'As request-uri-signed-rs256.',
  },

  // Other plans: front-channel logout, session management, third-party-initiated login.
  {
    name: 'oidcc-client-test-rp-frontchannel-rpinitlogout',
    plans: ['other plans'],
    notApplicable: 'Front-channel logout (an OP page that loads the RP in an iframe) is not offered: in an iframe the BFF\'s cookies are third-party and blocked or partitioned by today\'s browsers, so it cannot end the session there. Back-channel logout is the supported way.',
  },
  {
    name: 'oidcc-client-test-rp-frontchannel-opinitlogout',
    plans: ['other plans'],
    notApplicable: 'As rp-frontchannel-rpinitlogout.',
  },
  {
    name: 'oidcc-client-test-session-management',
    plans: ['other plans'],
    notApplicable: 'OpenID Connect Session Management (check_session_iframe) relies on the OP\'s cookies inside an iframe, the same third-party-cookie problem; it is not offered. Back-channel logout covers the need.',
  },
  {
    name: 'oidcc-client-test-3rd-party-init-login',
    plans: ['other plans'],
    notApplicable: 'Login initiated by the OP through the RP\'s initiate_login_uri (with iss, login_hint, target_link_uri) is not offered: a sign-in starts from the widget on a microsite, which chooses where the browser returns (an allowlisted returnTo). `/login` ignores iss and target_link_uri.',
  },
];
