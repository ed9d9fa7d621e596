// UI-5 / GB 16808 audible alarm, the decisions only (sound.ts plays them): which pattern sounds,
// what SILENCE (消音) quiets and what makes it sound again, and when a new critical alarm earns the
// full-screen flash. GB 16808 asks for an alarm sound distinct from the fault sound, a silence
// function, and the alarm sound starting again when a further alarm comes in after a silence.
// Pure: unit-tested in Node (test/ui/units.test.ts).
import type { AlarmEventKind } from '../../../appliance/contract/alarm.ts';
import type { AlarmView, ServerMessage } from '../../../appliance/contract/live.ts';
import { isGas, isListed } from '../lib/alarm-order.ts';
import type { CLOUD_ACTOR_PREFIX } from '../../../appliance/contract/uplink.ts';

/** Issue 17.5: who acknowledged from the cloud (the contract's actor prefix, checked by the type). */
const CLOUD_ACTOR: typeof CLOUD_ACTOR_PREFIX = 'cloud:';

/** level2: gas level 2 (二级) or any critical gas alarm; level1: gas level 1 (一级); fault: faults, offline detectors, a lost link. */
export type SoundPattern = 'level2' | 'level1' | 'fault';
/** Loudest first. */
export const SOUND_PATTERNS: readonly SoundPattern[] = ['level2', 'level1', 'fault'];

export type SoundSubject = Pick<AlarmView, 'type' | 'level' | 'priority' | 'isa_state' | 'masked'>;

/**
 * The pattern a listed record calls for; null for a normal record and for low priority (low battery, housekeeping).
 * Issue 15.1: a masked detector is quiet — except a level-2 gas alarm when masking.level2_sounds (safety first).
 */
export function patternOf(alarm: SoundSubject): SoundPattern | null {
  if (!isListed(alarm)) return null;
  if (alarm.masked) return alarm.masked.sounds && isGas(alarm) && alarm.level === 2 ? 'level2' : null;
  if (isGas(alarm)) return alarm.level === 2 || alarm.priority === 'critical' ? 'level2' : 'level1';
  return alarm.priority === 'low' ? null : 'fault'; // a fault sounds like a fault, whatever its configured priority
}

export function loudest(patterns: Iterable<SoundPattern | null>): SoundPattern | null {
  let best: SoundPattern | null = null;
  for (const p of patterns) if (p && (best === null || SOUND_PATTERNS.indexOf(p) < SOUND_PATTERNS.indexOf(best))) best = p;
  return best;
}

/** Something that can sound: a listed alarm, or the kiosk's own link to the appliance. */
export interface SoundSource {
  key: string;
  pattern: SoundPattern | null;
  /** the gas level (0 when the type has none): a rise makes a silenced source sound again */
  level: number;
  active: boolean;
}

export const alarmSource = (alarm: AlarmView): SoundSource => ({
  key: `alarm:${alarm.id}`, pattern: patternOf(alarm), level: alarm.level ?? 0, active: alarm.state === 'active',
});

/** GB 16808 counts a broken link between controller and detectors as a fault: a kiosk that cannot see the plant says so. */
export const LINK_SOURCE: SoundSource = { key: 'link', pattern: 'fault', level: 0, active: true };

/** What a silenced source looked like: the lowest level and whether it was active since the silence. */
interface Quiet {
  level: number;
  active: boolean;
}

export class Annunciator {
  private quiet = new Map<string, Quiet>();
  /** the acknowledgement each record was last quieted for */
  private acks = new Map<number, string>();
  /** records that are active and critical now (a flash marks the moment one becomes so) */
  private critical = new Set<number>();
  /** false until the first snapshot: what was already there when the screen opened does not flash */
  private primed = false;

  /** Feeds every message from /ws/dashboard, in order; returns the alarm to flash full-screen, if any. */
  take(message: ServerMessage): AlarmView | null {
    if (message.type === 'alarm') return this.observe(message.data, message.kind);
    if (message.type !== 'snapshot') return null;
    let flash: AlarmView | null = null;
    const ids = new Set<number>();
    for (const alarm of message.data.alarms) {
      ids.add(alarm.id);
      flash = this.observe(alarm) ?? flash;
    }
    // A snapshot (the first, or a re-sync after a reconnect) is the whole list: forget the rest.
    for (const key of [...this.quiet.keys()]) if (key.startsWith('alarm:') && !ids.has(Number(key.slice(6)))) this.quiet.delete(key);
    for (const id of [...this.acks.keys()]) if (!ids.has(id)) this.acks.delete(id);
    for (const id of [...this.critical]) if (!ids.has(id)) this.critical.delete(id);
    this.primed = true;
    return flash;
  }

  /** One record's new state. Each message is observed on its own, so a level that goes 2 → 1 → 2 between two renders still counts. */
  observe(alarm: AlarmView, kind?: AlarmEventKind): AlarmView | null {
    const key = `alarm:${alarm.id}`;
    if (!isListed(alarm)) {
      this.quiet.delete(key);
      this.acks.delete(alarm.id);
      this.critical.delete(alarm.id);
      return null;
    }
    this.rearm(alarmSource(alarm), kind === 'repeat');
    // An acknowledgement quiets the record as SILENCE does (ISA-18.2: acknowledging silences the
    // horn): someone has taken it. A later rise in level or a return makes it sound again.
    // Issue 17.5: an acknowledgement from the cloud is journaled but quiets nothing here — nobody in
    // the control room has taken the alarm, so its sound stands until silenced or acknowledged locally.
    if (alarm.ack_at !== null && !alarm.ack_by?.startsWith(CLOUD_ACTOR) && this.acks.get(alarm.id) !== alarm.ack_at) {
      this.acks.set(alarm.id, alarm.ack_at);
      this.quiet.set(key, { level: alarm.level ?? 0, active: alarm.state === 'active' });
    }
    const critical = alarm.state === 'active' && (alarm.priority === 'critical' || (isGas(alarm) && alarm.level === 2));
    const wasCritical = this.critical.has(alarm.id);
    if (critical) this.critical.add(alarm.id);
    else this.critical.delete(alarm.id);
    return critical && !wasCritical && this.primed ? alarm : null;
  }

  /**
   * GB 16808 "sounds again on a new alarm": a new record is never quiet; a silenced one sounds
   * again when its level rises above the lowest it had since the silence (1 → 2, or 2 → 1 → 2)
   * or when it comes back after clearing (a repeat).
   */
  private rearm(source: SoundSource, force: boolean) {
    const quiet = this.quiet.get(source.key);
    if (!quiet) return;
    if (force || source.level > quiet.level || (source.active && !quiet.active)) this.quiet.delete(source.key);
    else {
      quiet.level = source.level;
      quiet.active = source.active;
    }
  }

  /** The link is watched every render: once it is back, its silence is forgotten, so the next loss sounds. */
  link(down: boolean) {
    if (!down) this.quiet.delete(LINK_SOURCE.key);
  }

  /** SILENCE (消音): quiets every source there is now; returns how many were sounding. */
  silence(sources: readonly SoundSource[]): number {
    let sounding = 0;
    for (const source of sources) {
      if (source.pattern && !this.quiet.has(source.key)) sounding++;
      this.quiet.set(source.key, { level: source.level, active: source.active });
    }
    return sounding;
  }

  isQuiet(source: SoundSource): boolean {
    return this.quiet.has(source.key);
  }

  /** The loudest pattern among the sources not silenced; null: quiet. */
  pattern(sources: readonly SoundSource[]): SoundPattern | null {
    return loudest(sources.filter((s) => !this.quiet.has(s.key)).map((s) => s.pattern));
  }

  /** For the button: 'sounding', 'silenced' (something would sound but is quiet), or 'quiet' (nothing to sound). */
  soundState(sources: readonly SoundSource[]): 'sounding' | 'silenced' | 'quiet' {
    if (this.pattern(sources)) return 'sounding';
    return sources.some((s) => s.pattern) ? 'silenced' : 'quiet';
  }
}
