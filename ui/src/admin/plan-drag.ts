// Drag-to-place for the dashboard editor (seed §6.2) with pointer events, so it works the same
// with a mouse and a finger: press on a device (in the list or on the plan), move, release over
// the plan → its position in percent of the image.
export interface DropTarget {
  /** The element the percentages refer to: the drawn floor-plan image. */
  layer: () => HTMLElement | null;
  onDrop: (sn: string, x: number, y: number) => void;
  onMove?: (ghost: { sn: string; left: number; top: number } | null) => void;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const clamp = (n: number) => Math.min(100, Math.max(0, n));

/** Percent position of a viewport point inside `rect`, or null when outside it. */
export function percentIn(rect: DOMRect, clientX: number, clientY: number): { x: number; y: number } | null {
  if (rect.width === 0 || clientX < rect.left || clientX > rect.right || clientY < rect.top || clientY > rect.bottom) return null;
  return { x: round1(clamp(((clientX - rect.left) / rect.width) * 100)), y: round1(clamp(((clientY - rect.top) / rect.height) * 100)) };
}

export function startDrag(event: PointerEvent, sn: string, target: DropTarget) {
  if (event.button !== 0) return;
  event.preventDefault();
  const move = (e: PointerEvent) => target.onMove?.({ sn, left: e.clientX, top: e.clientY });
  const up = (e: PointerEvent) => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
    window.removeEventListener('pointercancel', up);
    target.onMove?.(null);
    const layer = target.layer();
    const at = layer && percentIn(layer.getBoundingClientRect(), e.clientX, e.clientY);
    if (at) target.onDrop(sn, at.x, at.y);
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
  window.addEventListener('pointercancel', up);
  move(event);
}
