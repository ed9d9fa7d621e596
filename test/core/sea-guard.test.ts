// Issue 16.5: what the single executable's first module refuses, ignores and lets be
// (the process side is exercised on the built binary in test/installer/binary-tamper.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_TAMPERED, judgeSeaEnvironment } from '../../appliance/core/sea-guard.ts';

test('Node options or a preloaded library refuse the start, in English and Chinese', () => {
  const options = judgeSeaEnvironment({}, ['--require', 'x.cjs']);
  assert.match(options.refuse ?? '', /Node\.js options are not accepted by mcs-edge \(--require x\.cjs\)/);
  assert.match(options.refuse ?? '', /不接受/);
  for (const name of ['LD_PRELOAD', 'LD_AUDIT']) {
    const preload = judgeSeaEnvironment({ [name]: '/tmp/faketime.so' }, []);
    assert.match(preload.refuse ?? '', new RegExp(`${name} is set`));
    assert.match(preload.refuse ?? '', /预加载/);
  }
  assert.equal(EXIT_TAMPERED, 78, 'EX_CONFIG: systemd does not restart a refused environment');
});

test('NODE_OPTIONS and OPENSSL_CONF (never read by the sealed runtime) are named as ignored; a plain environment passes', () => {
  assert.deepEqual(judgeSeaEnvironment({ NODE_OPTIONS: '--require x.cjs', OPENSSL_CONF: '/etc/x.cnf', PATH: '/usr/bin' }, []),
    { refuse: null, ignored: ['NODE_OPTIONS', 'OPENSSL_CONF'] });
  assert.deepEqual(judgeSeaEnvironment({ PATH: '/usr/bin', LD_LIBRARY_PATH: '/opt/lib' }, []), { refuse: null, ignored: [] });
});
