// UI-1: zh-CN and English, chosen from the browser language, switchable, remembered in
// localStorage. Components read texts with t(key); the language switch re-renders the tree
// through useLang().
import { useEffect, useState } from 'preact/hooks';
import { en, type Texts } from './en.ts';
import { zh } from './zh.ts';

export type Lang = 'zh-CN' | 'en';
const STORAGE_KEY = 'mcs.lang';
const listeners = new Set<(lang: Lang) => void>();

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'zh-CN' || saved === 'en') return saved;
  return (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

let current: Lang = initialLang();
document.documentElement.lang = current;

export const lang = (): Lang => current;

export function setLang(next: Lang) {
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export type TextKey = keyof Texts;

/** The text for `key` in the current language; {name} placeholders filled from `vars`. */
export function t(key: TextKey, vars?: Record<string, string | number>): string {
  const table: Texts = current === 'zh-CN' ? zh : en;
  let text: string = table[key] ?? en[key] ?? key;
  if (vars) for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** Re-renders the calling component when the language changes. */
export function useLang(): Lang {
  const [value, setValue] = useState(current);
  useEffect(() => {
    listeners.add(setValue);
    return () => void listeners.delete(setValue);
  }, []);
  return value;
}

const locale = () => (current === 'zh-CN' ? 'zh-CN' : 'en-GB');
const pad = (n: number) => String(n).padStart(2, '0');

/** Local date and time, YYYY-MM-DD HH:mm:ss (the same in both languages: plant staff read it). */
// OPS-5: times are shown in the plant's timezone (from GET /api/config/dashboard), not the PC's.
let siteTimeParts: Intl.DateTimeFormat | null = null;
export function setSiteTimezone(timezone: string): void {
  try {
    siteTimeParts = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
  } catch {
    siteTimeParts = null; // an unknown zone: the browser's
  }
}

export function formatTime(value: string | number | null | undefined, withSeconds = true): string {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '—';
  if (siteTimeParts) {
    const p = Object.fromEntries(siteTimeParts.formatToParts(d).map((part) => [part.type, part.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${withSeconds ? `:${p.second}` : ''}`;
  }
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? `:${pad(d.getSeconds())}` : ''}`;
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString(locale(), { maximumFractionDigits: digits });
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
