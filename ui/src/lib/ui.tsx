// Small shared pieces of the admin pages: a loader hook, notices, a modal, a pager, a field.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.ts';
import { errorText } from './api.ts';

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error) => current && setState({ data: null, error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** A message line: what went wrong (in the user's language) or what was done. */
export function Notice(props: { error?: unknown; ok?: string | null }) {
  if (props.error) return <p class="notice notice-error" role="alert">{errorText(props.error)}</p>;
  if (props.ok) return <p class="notice notice-ok" role="status">{props.ok}</p>;
  return null;
}

/** Wraps an action: busy while it runs, its error or success text kept for a Notice. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [ok, setOk] = useState<string | null>(null);
  const run = useCallback(async (action: () => Promise<unknown>, okText?: string): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setOk(null);
    try {
      await action();
      if (okText) setOk(okText);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, ok, run, clear: () => (setError(null), setOk(null)) };
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={`modal${props.wide ? ' modal-wide' : ''}`} role="dialog" aria-label={props.title}>
        <header>
          <h2>{props.title}</h2>
          <button type="button" class="close" onClick={props.onClose} aria-label={t('common.close')}>×</button>
        </header>
        <div class="modal-body">{props.children}</div>
      </div>
    </div>
  );
}

export function Pager(props: { page: number; size: number; total: number; onPage: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(props.total / props.size));
  return (
    <div class="pager">
      <button type="button" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>‹</button>
      <span>{t('common.pageOf', { page: props.page, pages, total: props.total })}</span>
      <button type="button" disabled={props.page >= pages} onClick={() => props.onPage(props.page + 1)}>›</button>
    </div>
  );
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string; wide?: boolean }) {
  return (
    <label class={`field${props.wide ? ' field-wide' : ''}`}>
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.hint && <small class="field-hint">{props.hint}</small>}
    </label>
  );
}

export const inputValue = (e: Event) => (e.currentTarget as HTMLInputElement).value;
export const inputChecked = (e: Event) => (e.currentTarget as HTMLInputElement).checked;

/** '' → null, else a number (NaN stays NaN for the API to refuse with its own message). */
export const numberOrNull = (text: string): number | null => (text.trim() === '' ? null : Number(text));
