// Issue 15.2: the due report as a spreadsheet through the one CSV writer (core/csv.ts): headers
// and states in the site language (or ?language=), dates site-local (OPS-5: stored UTC).
import type { Language } from '../contract/alarm-labels.ts';
import type { DueRowView, DueState } from '../contract/calibration.ts';
import { formatSiteTime } from '../contract/site-format.ts';
import { csvDocument } from '../core/csv.ts';

const HEADERS: Record<Language, string[]> = {
  en: ['Serial', 'Name', 'Location', 'Calibration interval (days)', 'Last calibration', 'Calibration due', 'Calibration state', 'Bump-test interval (days)', 'Last bump test', 'Bump test due', 'Bump-test state'],
  'zh-CN': ['序列号', '名称', '位置', '校准周期（天）', '上次校准', '校准到期', '校准状态', '气体测试周期（天）', '上次气体测试', '气体测试到期', '气体测试状态'],
};

export const DUE_STATE_LABELS: Record<DueState, Record<Language, string>> = {
  ok: { en: 'ok', 'zh-CN': '正常' },
  due: { en: 'due soon', 'zh-CN': '即将到期' },
  overdue: { en: 'overdue', 'zh-CN': '已过期' },
};

export function dueReportCsv(rows: Iterable<DueRowView>, { language, timezone }: { language: Language; timezone: string }): Generator<string> {
  const date = (text: string | null) => (text === null ? null : formatSiteTime(Date.parse(text), timezone));
  const state = (s: DueState | null) => (s === null ? null : DUE_STATE_LABELS[s][language]);
  return csvDocument(HEADERS[language], rows, (r) => [
    r.sn, r.name, r.location, r.calibration_days, date(r.last_calibration_at), date(r.calibration_due_at), state(r.calibration_state),
    r.bump_test_days || null, date(r.last_bump_test_at), date(r.bump_test_due_at), state(r.bump_test_state),
  ]);
}
