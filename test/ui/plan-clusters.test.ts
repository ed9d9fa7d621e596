// Issue 15.8: markers that would cover each other at the size the plan is drawn become one cluster;
// markers with room around them stay as they are. Pure functions, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupingMemo, groupOverlapping, type PlanPoint } from '../../ui/src/lib/plan-clusters.ts';

const LAYER = { width: 1000, height: 500 };
const CLUSTER = { w: 34, h: 34 };
const dot = (key: string, x: number, y: number, size = 16): PlanPoint => ({ key, x, y, w: size, h: size });
const shape = (groups: { keys: string[] }[]) => groups.map((g) => g.keys.join('+')).sort();

test('dots with room around them stay single; dots that would touch become one cluster at their mean', () => {
  // 10 % of 1000 px = 100 px apart: far; 1 % = 10 px apart: a 16 px dot covers the next one.
  const points = [dot('a', 10, 10), dot('b', 20, 10), dot('c', 50, 50), dot('d', 51, 50), dot('e', 50, 52)];
  const groups = groupOverlapping(points, LAYER, CLUSTER);
  assert.deepEqual(shape(groups), ['a', 'b', 'c+d+e']);
  const cluster = groups.find((g) => g.keys.length === 3)!;
  assert.ok(Math.abs(cluster.x - 151 / 3) < 1e-9 && Math.abs(cluster.y - 152 / 3) < 1e-9, `at the mean: ${JSON.stringify(cluster)}`);
  const single = groups.find((g) => g.keys[0] === 'a')!;
  assert.deepEqual([single.x, single.y], [10, 10], 'a single marker keeps its own place');
});

test('touching is judged in pixels: the same points group on a small screen and not on a large one', () => {
  // 3 % apart: 30 px on a 1000 px plan (room for 16 px dots), 9 px on a 300 px phone plan.
  const points = [dot('a', 40, 40), dot('b', 43, 40), dot('c', 46, 40)];
  assert.deepEqual(shape(groupOverlapping(points, LAYER, CLUSTER)), ['a', 'b', 'c']);
  assert.deepEqual(shape(groupOverlapping(points, { width: 300, height: 170 }, CLUSTER)), ['a+b+c']);
  assert.deepEqual(shape(groupOverlapping(points, { width: 0, height: 0 }, CLUSTER)), ['a', 'b', 'c'], 'an unmeasured plan groups nothing');
});

test('a growing cluster takes in what its larger badge now covers, until nothing overlaps', () => {
  // a and b touch; the 34 px cluster at their mean (x = 40.5 % → 405 px) reaches c at 42.5 % (425 px): 20 px < (34 + 16) / 2 + 4.
  const points = [dot('a', 40, 40), dot('b', 41, 40), dot('c', 42.5, 40), dot('far', 80, 80)];
  const groups = groupOverlapping(points, LAYER, CLUSTER);
  assert.deepEqual(shape(groups), ['a+b+c', 'far']);
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const size = (g: { keys: string[] }) => (g.keys.length > 1 ? CLUSTER.w : 16);
      const dx = Math.abs(groups[i].x - groups[j].x) * 10;
      const dy = Math.abs(groups[i].y - groups[j].y) * 5;
      const reach = (size(groups[i]) + size(groups[j])) / 2 + 4;
      assert.ok(dx >= reach || dy >= reach, `${groups[i].keys} and ${groups[j].keys} still overlap`);
    }
  }
});

test('120 detectors in ten tight racks group into ten clusters, the same whatever their order', () => {
  const points: PlanPoint[] = [];
  for (let rack = 0; rack < 10; rack++) {
    for (let k = 0; k < 12; k++) points.push(dot(`R${rack}-${String(k).padStart(2, '0')}`, 8 + (rack % 5) * 20 + (k % 4) * 0.8, 25 + Math.floor(rack / 5) * 50 + Math.floor(k / 4) * 1.2));
  }
  const groups = groupOverlapping(points, { width: 900, height: 506 }, CLUSTER);
  assert.equal(groups.length, 10);
  assert.ok(groups.every((g) => g.keys.length === 12 && new Set(g.keys.map((k) => k.split('-')[0])).size === 1), 'one cluster per rack');
  const reversed = groupOverlapping([...points].reverse(), { width: 900, height: 506 }, CLUSTER);
  assert.deepEqual(shape(reversed), shape(groups));
});

test('the memo gives the same groups back while points and size stay, and groups again when one moves', () => {
  const memo = groupingMemo();
  const points = [dot('a', 10, 10), dot('b', 10.5, 10)];
  const first = memo(points, LAYER, CLUSTER);
  assert.equal(memo([...points], LAYER, CLUSTER), first);
  const moved = memo([dot('a', 10, 10), dot('b', 30, 10)], LAYER, CLUSTER);
  assert.notEqual(moved, first);
  assert.deepEqual(shape(moved), ['a', 'b']);
});
