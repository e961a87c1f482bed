import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader, splitList } from '../../../bff/config/env.ts';
import { ConfigError } from '../../../bff/errors.ts';
import { readerProblems } from '../../helpers/config.ts';

describe('EnvReader', () => {
  it('reads trimmed values; blank is unset', () => {
    const env = EnvReader.of({ A: '  x ', B: '   ', C: '' });
    assert.deepEqual([env.str('A'), env.str('B'), env.str('C'), env.str('D')], ['x', undefined, undefined, undefined]);
  });

  it('names a required value that is unset or blank, and reads it as empty', () => {
    assert.deepEqual(readerProblems({ B: ' ' }, (env) => {
      assert.equal(env.required('A'), '');
      assert.equal(env.required('B'), '');
    }), ['A: is required', 'B: is required']);
  });

  it('reads true/1 and false/0 as booleans, unset as false, anything else as a problem', () => {
    const found = readerProblems({ T: 'true', O: '1', F: 'false', Z: '0', Y: 'yes' }, (env) => {
      assert.deepEqual(['T', 'O', 'F', 'Z', 'U', 'Y'].map((n) => env.bool(n)), [true, true, false, false, false, false]);
    });
    assert.deepEqual(found, ['Y: must be true or false, got "yes"']);
  });

  it('reads whole numbers within their range, the default otherwise', () => {
    const found = readerProblems({ N: '42', LOW: '9', FRACTION: '1.5', WORD: 'ten' }, (env) => {
      assert.deepEqual(['N', 'LOW', 'FRACTION', 'WORD', 'UNSET'].map((n) => env.int(n, 7, 10, 100)), [42, 7, 7, 7, 7]);
    });
    assert.deepEqual(found, [
      'LOW: must be a whole number from 10 to 100, got "9"',
      'FRACTION: must be a whole number from 10 to 100, got "1.5"',
      'WORD: must be a whole number from 10 to 100, got "ten"',
    ]);
  });

  it('reads one of a few choices: the default when unset, undefined and a problem listing them when not one', () => {
    const found = readerProblems({ K: 'b', BAD: 'd' }, (env) => {
      assert.equal(env.choice('K', ['a', 'b', 'c'], 'a'), 'b');
      assert.equal(env.choice('UNSET', ['a', 'b', 'c'], 'a'), 'a');
      assert.equal(env.choice('BAD', ['a', 'b', 'c'], 'a'), undefined);
      assert.equal(env.choice('BAD', ['x', 'y'], 'x'), undefined);
    });
    assert.deepEqual(found, ['BAD: must be a, b or c, got "d"', 'BAD: must be x or y, got "d"']);
  });

  it('reads comma-separated lists, trimmed, blanks dropped', () => {
    assert.deepEqual(EnvReader.of({ L: ' a, b ,,c ,' }).list('L'), ['a', 'b', 'c']);
    assert.deepEqual(EnvReader.of({}).list('L'), []);
    assert.deepEqual(splitList(undefined), []);
  });

  it('takes https URLs, and http ones only with LATCH_ALLOW_INSECURE_HTTP=true', () => {
    assert.deepEqual(readerProblems({}, (env) => {
      assert.equal(env.url('U', 'https://a.example/x')?.href, 'https://a.example/x');
      assert.equal(env.url('U', undefined), undefined, 'unset is not a problem of url()');
      assert.equal(env.url('U', 'http://a.example'), undefined);
      assert.equal(env.url('U', 'ftp://a.example'), undefined);
      assert.equal(env.url('U', 'a.example'), undefined);
    }), [
      'U: must use https:// (set LATCH_ALLOW_INSECURE_HTTP=true for local development only)',
      'U: must be an https:// URL',
      'U: must be an absolute URL, got "a.example"',
    ]);
    const insecure = EnvReader.of({ LATCH_ALLOW_INSECURE_HTTP: 'true' });
    assert.equal(insecure.allowInsecureHttp, true);
    assert.equal(insecure.url('U', 'http://a.example')?.origin, 'http://a.example');
  });

  it('reads LATCH_ALLOW_INSECURE_HTTP first, so that its own problem comes first', () => {
    assert.deepEqual(readerProblems({ LATCH_ALLOW_INSECURE_HTTP: 'sometimes' }, (env) => env.required('A')), [
      'LATCH_ALLOW_INSECURE_HTTP: must be true or false, got "sometimes"',
      'A: is required',
    ]);
  });

  it('keeps bare origins, naming each item that is not one', () => {
    const found = readerProblems({}, (env) => {
      assert.deepEqual(env.origins('O', ['https://a.example', 'https://b.example/', 'https://c.example/path', 'http://d.example']), ['https://a.example', 'https://b.example']);
    });
    assert.deepEqual(found, [
      'O: "https://c.example/path" must be a bare origin such as https://www.example.com',
      'O: must use https:// (set LATCH_ALLOW_INSECURE_HTTP=true for local development only)',
    ]);
  });

  it('reads a group of variables under a prefix, naming them in full, into the same problems', () => {
    const env = EnvReader.of({ LATCH_ISSUER: 'https://root.example', LATCH_PROVIDER_GOOGLE_ISSUER: ' https://accounts.google.com ' });
    const google = env.under('LATCH_').under('PROVIDER_GOOGLE_');
    assert.equal(google.str('ISSUER'), 'https://accounts.google.com');
    assert.equal(google.name('CLIENT_ID'), 'LATCH_PROVIDER_GOOGLE_CLIENT_ID');
    google.required('CLIENT_ID');
    google.url('ISSUER', 'nope');
    assert.equal(env.problemCount, 2);
    assert.throws(() => env.throwIfProblems(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.variable), ['LATCH_PROVIDER_GOOGLE_CLIENT_ID', 'LATCH_PROVIDER_GOOGLE_ISSUER']);
      return true;
    });
  });
});
