// ALM-5: one alarm rendering for every channel, in the site language and the site timezone (OPS-5).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { renderAlarmMessage, formatSiteTime, type AlarmNotice } from '../../appliance/notify/message.ts';
import { notice } from './support.ts';

// The shared test notice: at 08:30:05 in Shanghai, 19:30:05 the day before in New York.
const high: AlarmNotice = { ...notice, alarmId: 7 };
const at = high.at;

function assertIncludesAll(text: string, parts: string[]) {
  for (const part of parts) assert.ok(text.includes(part), `missing '${part}' in:\n${text}`);
}

describe('alarm message', () => {
  test('the Chinese message names the device, serial, location, type, value, limit and local time', () => {
    const message = renderAlarmMessage(high, { language: 'zh-CN', timezone: 'Asia/Shanghai' });
    assert.equal(message.title, '【报警】浓度高报 - 1号车间探测器 (A001)');
    for (const text of [message.text, message.markdown]) {
      assertIncludesAll(text, ['1号车间探测器', 'A001', '一车间东侧', '浓度高报', '报警中', '3516.1 ppm', '1000 ppm', '2026-01-01 08:30:05 UTC+8']);
    }
    assert.match(message.markdown, /^### 【报警】/);
    assert.match(message.markdown, /\*\*位置\*\*：一车间东侧/);
  });

  test('the English message says the same in English, with the time in the given timezone', () => {
    const message = renderAlarmMessage(high, { language: 'en', timezone: 'America/New_York' });
    assert.equal(message.title, '[ALARM] High gas concentration - 1号车间探测器 (A001)');
    assertIncludesAll(message.text, [
      'Device: 1号车间探测器 (A001)',
      'Location: 一车间东侧',
      'Type: High gas concentration (HIGH)',
      'State: raised',
      'Value: 3516.1 ppm',
      'Limit: 1000 ppm',
      'Time: 2025-12-31 19:30:05 UTC-5',
    ]);
  });

  test('a cleared alarm says so in both languages', () => {
    const cleared = { ...high, event: 'cleared' as const, value: 420 };
    assert.match(renderAlarmMessage(cleared, { language: 'zh-CN', timezone: 'UTC' }).text, /^【恢复】[\s\S]*状态：已恢复/);
    assert.match(renderAlarmMessage(cleared, { language: 'en', timezone: 'UTC' }).text, /^\[CLEARED\][\s\S]*State: cleared/);
  });

  test('every alarm type has a label in both languages and an unknown type shows as it is', () => {
    const labels = { OFFLINE: '设备离线', LOW: '浓度低报', LOW_BAT: '电池电量低', FAULT: '设备故障', DISK: '磁盘空间不足', ARCHIVE: '数据归档失败', LICENSE: '授权即将失效', CHANNEL: '通知渠道故障' };
    for (const [type, zh] of Object.entries(labels)) {
      assert.ok(renderAlarmMessage({ ...high, type }, { language: 'zh-CN', timezone: 'UTC' }).title.includes(zh), type);
      const en = renderAlarmMessage({ ...high, type }, { language: 'en', timezone: 'UTC' }).title;
      assert.ok(!/[\u4e00-\u9fff]{2}/.test(en.split(' - ')[0]), `${type} has an English label: ${en}`);
    }
    assert.match(renderAlarmMessage({ ...high, type: 'SOMETHING' }, { language: 'en', timezone: 'UTC' }).title, /SOMETHING/);
  });

  test('a system alarm without device, value or limit leaves those rows out', () => {
    const disk: AlarmNotice = { ...high, type: 'DISK', sn: null, deviceName: '', location: '', value: null, limit: null, detail: 'free 4%' };
    const message = renderAlarmMessage(disk, { language: 'en', timezone: 'UTC' });
    assert.equal(message.title, '[ALARM] Disk space low - System');
    assert.doesNotMatch(message.text, /Location|Value|Limit/);
    assert.match(message.text, /Detail: free 4%/);
    assert.deepEqual([message.facts.sn, message.facts.value, message.facts.location], ['', '', '']);
  });

  test('a multi-line detail stays on one markdown row', () => {
    const message = renderAlarmMessage({ ...high, detail: 'line one\nline two' }, { language: 'en', timezone: 'UTC' });
    assert.match(message.markdown, /\*\*Detail\*\*: line one line two$/);
  });

  test('site time is formatted the same way in any timezone, with its offset', () => {
    assert.equal(formatSiteTime(at, 'UTC'), '2026-01-01 00:30:05 UTC');
    assert.equal(formatSiteTime(at, 'Asia/Kolkata'), '2026-01-01 06:00:05 UTC+5:30');
    assert.equal(formatSiteTime(Date.UTC(2026, 0, 1, 16), 'Asia/Shanghai'), '2026-01-02 00:00:00 UTC+8');
  });
});
