// Small shared pieces of the admin pages: a loader hook, notices, a modal (Esc closes it), a
// pager, a field, a copy button for what is shown once, and the unsaved-changes guard.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { setSiteTimezone, t } from '../i18n/i18n.ts';
import { api, errorText, serverDetail } from './api.ts';
import { guardLeave } from './router.ts';

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
  // The server's English specifics stay reachable as a tooltip when the text is in Chinese.
  if (props.error) return <p class="notice notice-error" role="alert" title={serverDetail(props.error) || undefined}>{errorText(props.error)}</p>;
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

/** The open dialogs, innermost last: Esc closes only the innermost one. */
const openModals: { current: () => void }[] = [];

function onEscape(e: KeyboardEvent) {
  if (e.key !== 'Escape' || e.defaultPrevented || !openModals.length) return;
  e.preventDefault();
  openModals[openModals.length - 1].current();
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const close = useRef(props.onClose);
  close.current = props.onClose;
  // Esc closes the dialog (WAI-ARIA dialog pattern); the close button and the backdrop do too.
  // A layout effect: it runs as the dialog enters the DOM. A plain effect waits for the next frame
  // (up to 35 ms and longer on a busy machine), and an Esc pressed as soon as the dialog shows was lost.
  useLayoutEffect(() => {
    const entry = { get current() { return close.current; } };
    openModals.push(entry);
    if (openModals.length === 1) document.addEventListener('keydown', onEscape);
    return () => {
      openModals.splice(openModals.indexOf(entry), 1);
      if (!openModals.length) document.removeEventListener('keydown', onEscape);
    };
  }, []);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={`modal${props.wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true" aria-label={props.title}>
        <header>
          <h2>{props.title}</h2>
          <button type="button" class="close" onClick={props.onClose} aria-label={t('common.close')}>×</button>
        </header>
        <div class="modal-body">{props.children}</div>
      </div>
    </div>
  );
}

/**
 * Puts `text` on the clipboard. The Clipboard API exists only in a secure context (HTTPS or
 * localhost); the appliance is often opened as plain http://<LAN address>, where the old way is
 * the one that works: select the text in a hidden textarea and execCommand('copy').
 */
export async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      /* refused (no permission, no focus): try the old way */
    }
  }
  const focused = document.activeElement as HTMLElement | null;
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.cssText = 'position:fixed;top:0;left:0;width:1px;height:1px;opacity:0';
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  focused?.focus?.();
  return copied;
}

/** A button that copies a secret or link shown once (issue 16.10), saying whether it worked. */
export function CopyButton(props: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => setState('idle'), [props.text]);
  return (
    <button type="button" class="small copy" data-action="copy" data-copy-state={state}
      onClick={() => void copyText(props.text).then((ok) => setState(ok ? 'copied' : 'failed'))}>
      {state === 'copied' ? `✓ ${t('common.copied')}` : state === 'failed' ? t('common.copyFailed') : (props.label ?? t('common.copy'))}
    </button>
  );
}

/** The editors with unsaved changes now; leaving asks once for all of them. */
const dirtyEditors = new Set<object>();
guardLeave(() => dirtyEditors.size === 0 || confirm(t('common.unsaved')));
window.addEventListener('beforeunload', (e) => {
  if (dirtyEditors.size === 0) return;
  e.preventDefault();
  e.returnValue = ''; // the browser asks with its own words
});

/**
 * Issue 16.11: while `dirty`, leaving the editor asks first — a move to another admin page (the
 * router's guard) or closing/reloading the tab (beforeunload). Returns the question for the
 * editor's own Cancel / close / Esc: true when there is nothing to lose or the user agreed.
 */
export function useUnsavedChanges(dirty: boolean): () => boolean {
  const self = useRef({}).current;
  const current = useRef(dirty);
  current.current = dirty;
  // A layout effect, like the dialog's Esc: a link clicked in the frame after a keystroke still asks.
  useLayoutEffect(() => {
    if (dirty) dirtyEditors.add(self);
    else dirtyEditors.delete(self);
  }, [dirty]);
  useEffect(() => () => void dirtyEditors.delete(self), []);
  return useCallback(() => !current.current || confirm(t('common.unsaved')), []);
}

/** Compares two form states by value (JSON): what the unsaved-changes guard asks. */
export const sameValues = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

let siteZone: Promise<string> | null = null;
/** OPS-5: the site's timezone (GET /api/config/dashboard), once per page load; times shown follow it. */
export function useSiteTimezone(): string | null {
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => {
    siteZone ??= api.get<{ timezone: string }>('/api/config/dashboard').then((view) => (setSiteTimezone(view.timezone), view.timezone));
    let live = true;
    siteZone.then((z) => live && setZone(z), () => (siteZone = null));
    return () => {
      live = false;
    };
  }, []);
  return zone;
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
