// A tiny path router for /admin/<page>: links push history entries, the back button works, and
// the appliance answers index.html for every /admin/* path (SPA fallback).
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();
/** Asked before an in-app move; one answering false keeps the page (unsaved changes, ui.tsx useUnsavedChanges). */
const leaveGuards = new Set<() => boolean>();
let shown = location.pathname + location.search;
const mayLeave = () => [...leaveGuards].every((guard) => guard());

export function guardLeave(guard: () => boolean): () => void {
  leaveGuards.add(guard);
  return () => void leaveGuards.delete(guard);
}

window.addEventListener('popstate', () => {
  if (!mayLeave()) return history.pushState(null, '', shown); // the back button, refused: stay
  shown = location.pathname + location.search;
  listeners.forEach((l) => l());
});

export function navigate(path: string) {
  if (path === location.pathname + location.search) return;
  if (!mayLeave()) return;
  history.pushState(null, '', path);
  shown = path;
  listeners.forEach((l) => l());
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

/** <a> that navigates in-app on a plain click. */
export function linkClick(e: MouseEvent, path: string) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(path);
}
