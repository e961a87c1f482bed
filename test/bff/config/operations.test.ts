/** The operations section (bff/config/operations.ts): PORT, LATCH_HOST, LATCH_TRUST_PROXY, LATCH_METRICS, LATCH_TRACING, LATCH_LOG_LEVEL, LATCH_WIDGET_DIR, LATCH_ALLOW_INSECURE_HTTP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../bff/config.ts';
import { BASE_ENV, problemsOf } from '../../helpers/config.ts';

const valid = { LATCH_ISSUER: 'https://login.example.com', ...BASE_ENV };
const env = (extra: Record<string, string> = {}) => ({ ...valid, ...extra });

describe('deployment settings', () => {
  it('defaults: listen on 127.0.0.1:8787, forwarded headers untrusted, metrics and tracing off, widget beside the build', () => {
    const config = loadConfig(env());
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8787);
    assert.equal(config.trustProxy, false);
    assert.equal(config.trustedProxyHops, 0);
    assert.equal(config.metrics, false);
    assert.equal(config.tracing, false);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.widgetDir, undefined);
    assert.equal(config.allowInsecureHttp, false);
  });

  it('reads LATCH_HOST, LATCH_TRUST_PROXY, LATCH_METRICS and LATCH_WIDGET_DIR', () => {
    const config = loadConfig(env({ LATCH_HOST: '0.0.0.0', LATCH_TRUST_PROXY: 'true', LATCH_METRICS: '1', LATCH_WIDGET_DIR: '/srv/widget' }));
    assert.deepEqual([config.host, config.trustProxy, config.trustedProxyHops, config.metrics, config.widgetDir], ['0.0.0.0', true, 1, true, '/srv/widget']);
    assert.equal(loadConfig(env({ LATCH_TRUST_PROXY: '2' })).trustedProxyHops, 2);
    assert.deepEqual([0, 'false'].map((off) => loadConfig(env({ LATCH_TRUST_PROXY: String(off) })).trustProxy), [false, false]);
  });

  it('names LATCH_TRUST_PROXY and LATCH_METRICS when they are not booleans', () => {
    assert.deepEqual(problemsOf(env({ LATCH_TRUST_PROXY: 'yes', LATCH_METRICS: 'on' })).sort(), ['LATCH_METRICS', 'LATCH_TRUST_PROXY']);
    assert.deepEqual(problemsOf(env({ LATCH_TRUST_PROXY: '-1' })), ['LATCH_TRUST_PROXY']);
    assert.deepEqual(problemsOf(env({ LATCH_TRUST_PROXY: '10' })), ['LATCH_TRUST_PROXY'], 'one digit: 1-9 proxies');
  });

  it('reads PORT from 0 to 65535, LATCH_TRACING and LATCH_LOG_LEVEL', () => {
    const config = loadConfig(env({ PORT: '0', LATCH_TRACING: 'true', LATCH_LOG_LEVEL: 'debug' }));
    assert.deepEqual([config.port, config.tracing, config.logLevel], [0, true, 'debug']);
    for (const bad of ['-1', '65536', 'eighty']) assert.deepEqual(problemsOf(env({ PORT: bad })), ['PORT'], bad);
    assert.deepEqual(problemsOf(env({ LATCH_TRACING: 'on' })), ['LATCH_TRACING']);
  });

  it('takes LATCH_ALLOW_INSECURE_HTTP as the loud opt-in for http:// everywhere, and names it when it is not a boolean', () => {
    const insecure = env({ LATCH_ALLOW_INSECURE_HTTP: 'true', LATCH_ISSUER: 'http://127.0.0.1:9090', LATCH_BASE_URL: 'http://127.0.0.1:8787', LATCH_ALLOWED_ORIGINS: 'http://127.0.0.1:8080' });
    assert.equal(loadConfig(insecure).allowInsecureHttp, true);
    assert.deepEqual(problemsOf({ ...insecure, LATCH_ALLOW_INSECURE_HTTP: 'yes' }), ['LATCH_ALLOW_INSECURE_HTTP', 'LATCH_ISSUER', 'LATCH_BASE_URL', 'LATCH_ALLOWED_ORIGINS', 'LATCH_ALLOWED_ORIGINS']);
  });
});
