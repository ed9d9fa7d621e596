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

describe('alarm values in their own terms, never as the gas unit', () => {
  const render = (fields: Partial<AlarmNotice>, language: 'zh-CN' | 'en') => renderAlarmMessage({ ...high, ...fields }, { language, timezone: 'UTC' });

  test('HIGH: the concentration and its limit in the device unit', () => {
    assert.deepEqual([render({}, 'en').facts.value, render({}, 'en').facts.limit], ['3516.1 ppm', '1000 ppm']);
    assert.match(render({ unit: '% LEL' }, 'zh-CN').text, /数值：3516\.1 % LEL\n阈值：1000 % LEL/);
  });

  test('LOW_BAT: the battery percent and the battery limit', () => {
    const lowBat = { type: 'LOW_BAT', value: 9, limit: 20 };
    const en = render(lowBat, 'en');
    assertIncludesAll(en.text, ['Value: battery 9 %', 'Limit: 20 %']);
    assert.doesNotMatch(en.text + en.markdown, /ppm/);
    const zh = render(lowBat, 'zh-CN');
    assertIncludesAll(zh.text, ['数值：电量 9 %', '阈值：20 %']);
    assert.deepEqual([zh.facts.value, zh.facts.limit], ['电量 9 %', '20 %'], 'the SMS template variables too');
    assert.doesNotMatch(zh.text + zh.markdown, /ppm/);
  });

  test('FAULT with a device error code: the code and what it means, once', () => {
    const fault = { type: 'FAULT', value: 50, limit: null, detail: 'err 50: calibration lost' };
    const en = render(fault, 'en');
    assert.match(en.text, /Value: err 50: calibration lost/);
    assert.doesNotMatch(en.text, /ppm|Limit|Detail/);
    const zh = render(fault, 'zh-CN');
    assert.match(zh.text, /数值：故障码 50：校准数据丢失/);
    assert.doesNotMatch(zh.text, /ppm|阈值|详情/);
    assert.equal(zh.facts.value, '故障码 50：校准数据丢失');
    assert.equal(render({ ...fault, value: 77, detail: 'err 77: ?' }, 'en').facts.value, 'err 77', 'an unknown code shows as it is');
  });

  test('FAULT from an over-range clamp: the clamped concentration in the device unit, said to be over range', () => {
    const overRange = { type: 'FAULT', value: 50000, limit: null, detail: 'over range (sensor saturated)' };
    assertIncludesAll(render(overRange, 'en').text, ['Value: 50000 ppm (over range)', 'Detail: over range (sensor saturated)']);
    assert.match(render(overRange, 'zh-CN').text, /数值：50000 ppm（超量程）/);
  });

  test('OFFLINE: no value or limit row, whatever the record holds', () => {
    for (const language of ['en', 'zh-CN'] as const) {
      const message = render({ type: 'OFFLINE', value: 0, limit: null }, language);
      assert.doesNotMatch(message.text, /Value|Limit|数值|阈值|ppm/);
      assert.deepEqual([message.facts.value, message.facts.limit], ['', '']);
    }
  });

  test('DISK: free megabytes; the pruning alarm counts deleted readings', () => {
    const disk = { type: 'DISK', sn: null, deviceName: 'disk', location: '', unit: '', value: 812, limit: null, detail: 'free space 812 MB is below 1024 MB' };
    assert.equal(render(disk, 'en').facts.value, 'free 812 MB');
    assert.equal(render(disk, 'zh-CN').facts.value, '剩余 812 MB');
    assert.equal(render({ ...disk, deviceName: 'disk:pruned', value: 1200 }, 'en').facts.value, '1200 readings deleted');
    assert.equal(render({ ...disk, source: 'disk:pruned', value: 1200 }, 'zh-CN').facts.value, '已删除 1200 条读数');
  });
});
