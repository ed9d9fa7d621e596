// Issue 18.8: what `npm test` does about missing system tools, decided from the list alone
// (nothing is uninstalled here): nothing, install as root with apt-get, or one clear line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, hasCommand, TEST_TOOLS } from './preflight.ts';

const tool = (command: string) => {
  const found = TEST_TOOLS.find((t) => t.command === command || t.command.endsWith(`/${command}`));
  assert.ok(found, `${command} is in the list`);
  return found;
};
const root = { root: true, apt: true, mayInstall: true };

describe('preflight decision', () => {
  test('nothing missing: ready, whoever runs it', () => {
    assert.deepEqual(decide([], root), { action: 'ready' });
    assert.deepEqual(decide([], { root: false, apt: false, mayInstall: false }), { action: 'ready' });
  });

  test('root with apt-get installs the packages of what is missing, each package once', () => {
    assert.deepEqual(decide([tool('debootstrap'), tool('shellcheck'), tool('chromium')], root), {
      action: 'install', packages: ['debootstrap', 'shellcheck', 'chromium', 'fonts-wqy-zenhei'],
    });
  });

  test('not root: one line naming the tools and the sudo command, and its Chinese twin', () => {
    const decision = decide([tool('shellcheck'), tool('debootstrap')], { root: false, apt: true, mayInstall: true });
    assert.equal(decision.action, 'stop');
    const [english, chinese] = decision.action === 'stop' ? decision.lines : ['', ''];
    assert.equal(english, 'npm test: missing test tools: shellcheck, debootstrap. Install them with: sudo apt-get install -y shellcheck debootstrap (or run .ci/run as root, which installs everything).');
    assert.match(chinese, /缺少测试所需的工具：shellcheck, debootstrap。安装命令：sudo apt-get install -y shellcheck debootstrap/);
    assert.ok(!english.includes('\n') && !chinese.includes('\n'));
  });

  test('root asked only to check (--check, or a second look after installing) stops without sudo', () => {
    const decision = decide([tool('systemd-nspawn')], { ...root, mayInstall: false });
    assert.equal(decision.action, 'stop');
    assert.match(decision.action === 'stop' ? decision.lines[0] : '', /missing test tools: systemd-nspawn\. Install them with: apt-get install -y systemd-container \(/);
  });

  test('no apt-get: names the Debian packages to find the equivalents of; a path tool by its name', () => {
    const decision = decide([tool('chromium'), tool('pgrep')], { root: true, apt: false, mayInstall: true });
    assert.equal(decision.action, 'stop');
    assert.match(decision.action === 'stop' ? decision.lines[0] : '', /missing test tools: chromium, pgrep\. Install them with: install the Debian\/Ubuntu packages chromium fonts-wqy-zenhei procps or their equivalents/);
  });
});

describe('command lookup', () => {
  test('an executable on PATH or at an absolute path is found; a plain file or an absent one is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-'));
    try {
      writeFileSync(join(dir, 'tool-x'), '#!/bin/sh\n');
      chmodSync(join(dir, 'tool-x'), 0o755);
      writeFileSync(join(dir, 'not-executable'), '');
      assert.equal(hasCommand('tool-x', `/nonexistent:${dir}`), true);
      assert.equal(hasCommand(join(dir, 'tool-x'), ''), true);
      assert.equal(hasCommand('not-executable', dir), false);
      assert.equal(hasCommand('tool-y', dir), false);
      assert.equal(hasCommand('tool-x', ''), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
