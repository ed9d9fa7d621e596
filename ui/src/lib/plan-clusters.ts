// Issue 15.8: markers stay readable with 100+ detectors on one plan. Where markers would cover each
// other at the size the plan is drawn now (a 1366×768 control-room screen, a phone), they become one
// cluster marker — its count, in the colour of its worst detector (plan-state.ts) — that lists its
// detectors on a tap; markers with room around them stay as they are. The kiosk and the admin plan
// editor group the same way. Pure (pixels in, groups out), so it is unit-tested in Node.

/** More markers than this on one plan are drawn small (dots on the kiosk) and grouped where they overlap. */
export const DENSE_MARKERS = 30;

/** Kiosk dots and cluster markers, px (styles.css `.kiosk-plan.dense` and `.marker-cluster`); phones get the smaller ones. */
export const KIOSK_FOOTPRINT = {
  wide: { dot: 16, cluster: 34 },
  narrow: { dot: 12, cluster: 30 },
} as const;
/** Two markers closer than their half sizes plus this, px, are grouped: they would touch. */
export const MARKER_GAP_PX = 4;

export interface PlanPoint {
  key: string;
  /** percent of the plan (the image), as stored */
  x: number;
  y: number;
  /** the marker's footprint on screen, px */
  w: number;
  h: number;
}

export interface PlanGroup {
  /** one key: a marker on its own; more: a cluster of those markers (sorted) */
  keys: string[];
  /** where it is drawn, percent of the plan: the point itself, or the mean of a cluster's points */
  x: number;
  y: number;
}

interface Entity {
  keys: string[];
  /** sums of the members' percent positions (their mean is the cluster's place) */
  sumX: number;
  sumY: number;
  /** centre, px */
  px: number;
  py: number;
  w: number;
  h: number;
}

/**
 * Groups the points whose footprints would overlap on a plan drawn `layer` px large: any two
 * (markers or clusters) closer than their half sizes (+ `gap`) in both directions merge into one
 * cluster of `cluster` px at the mean of its points, until nothing overlaps. Deterministic: the
 * same points (in any order) give the same groups. An unmeasured plan (0 px) groups nothing.
 */
export function groupOverlapping(
  points: readonly PlanPoint[], layer: { width: number; height: number }, cluster: { w: number; h: number }, gap = MARKER_GAP_PX,
): PlanGroup[] {
  const sorted = [...points].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!(layer.width > 0 && layer.height > 0)) return sorted.map((p) => ({ keys: [p.key], x: p.x, y: p.y }));
  const entities: Entity[] = sorted.map((p) => ({
    keys: [p.key], sumX: p.x, sumY: p.y, px: (p.x / 100) * layer.width, py: (p.y / 100) * layer.height, w: p.w, h: p.h,
  }));
  const overlap = (a: Entity, b: Entity) =>
    Math.abs(a.px - b.px) < (a.w + b.w) / 2 + gap && Math.abs(a.py - b.py) < (a.h + b.h) / 2 + gap;
  for (let merged = true; merged;) {
    merged = false;
    for (let i = 0; i < entities.length; i++) {
      for (let j = i + 1; j < entities.length; j++) {
        if (!overlap(entities[i]!, entities[j]!)) continue;
        const a = entities[i]!;
        const b = entities[j]!;
        const keys = [...a.keys, ...b.keys];
        const sumX = a.sumX + b.sumX;
        const sumY = a.sumY + b.sumY;
        entities[i] = {
          keys, sumX, sumY,
          px: (sumX / keys.length / 100) * layer.width, py: (sumY / keys.length / 100) * layer.height,
          w: cluster.w, h: cluster.h,
        };
        entities.splice(j, 1);
        merged = true;
        j = i; // the grown cluster moved: look at every other one again
      }
    }
  }
  return entities.map((e) => {
    const keys = [...e.keys].sort();
    return { keys, x: e.sumX / keys.length, y: e.sumY / keys.length };
  });
}

/** The footprint of an editor pin (a name label), px: wide enough for its text at the editor's font. */
export function pinFootprint(label: string): { w: number; h: number } {
  return { w: Math.min(220, 22 + 8.5 * label.length), h: 30 };
}

/**
 * The last grouping, kept while the points and the plan's size stay the same: the kiosk renders
 * every second and on every reading, the grouping only changes when a marker moves or the screen does.
 */
export function groupingMemo() {
  let last: { key: string; groups: PlanGroup[] } | null = null;
  return (points: readonly PlanPoint[], layer: { width: number; height: number }, cluster: { w: number; h: number }): PlanGroup[] => {
    const key = `${layer.width}x${layer.height}:${cluster.w}x${cluster.h}:${points.map((p) => `${p.key}@${p.x},${p.y},${p.w},${p.h}`).join(';')}`;
    if (last?.key !== key) last = { key, groups: groupOverlapping(points, layer, cluster) };
    return last.groups;
  };
}
