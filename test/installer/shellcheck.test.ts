// PKG-2: the installer runs as root on customers' machines; shellcheck finds its quoting and
// error-handling mistakes before they do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

test('shellcheck finds nothing in installer/install.sh', () => {
  const run = spawnSync('shellcheck', ['--severity=style', join(ROOT, 'installer/install.sh')], { encoding: 'utf8' });
  assert.ok(!run.error, 'shellcheck is installed (Debian package shellcheck)');
  assert.equal(run.status, 0, run.stdout);
});

test('bash parses it, and --help documents every mode', () => {
  const run = spawnSync('bash', [join(ROOT, 'installer/install.sh'), '--help'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  for (const flag of ['--from', '--base-url', '--root', '--no-start', '--unattended', '--admin-password', '--license-file', '--http-port',
    '--mqtt-port', '--mqtts-port', '--tls', '--upgrade', '--uninstall', '--purge', '--skip-checksum']) {
    assert.ok(run.stdout.includes(flag), flag);
  }
});
