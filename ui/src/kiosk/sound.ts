// UI-5 / GB 16808: the kiosk's alarm sounder, generated in the page with Web Audio (no audio
// files). Each pattern is one cycle of tones rendered once into an AudioBuffer and looped by the
// audio thread: it keeps its rhythm when the page's timers are throttled (a kiosk tab in the
// background). Distinct patterns, as the standard asks the fault sound to differ from the alarm
// sound: level 1 a slow two-tone, level 2 fast and higher, fault a short beep every few seconds.
// Browsers start an AudioContext suspended until a user gesture (autoplay policy): state() says
// 'blocked' until it runs, and the first tap or key anywhere on the page resumes it.
import type { SoundPattern } from './annunciator.ts';

export interface Tone {
  /** seconds from the start of the cycle */
  at: number;
  dur: number;
  hz: number;
}

export interface PatternSpec {
  /** cycle length, s */
  period: number;
  wave: 'square' | 'triangle' | 'sine';
  gain: number;
  tones: Tone[];
}

export const PATTERNS: Record<SoundPattern, PatternSpec> = {
  // Fast (4 tones a second) and higher: two alternating tones, harsh.
  level2: { period: 0.5, wave: 'square', gain: 0.55, tones: [{ at: 0, dur: 0.2, hz: 1400 }, { at: 0.25, dur: 0.2, hz: 1850 }] },
  // Slow two-tone, high-low, nearly continuous.
  level1: { period: 1.6, wave: 'triangle', gain: 0.8, tones: [{ at: 0, dur: 0.75, hz: 880 }, { at: 0.8, dur: 0.75, hz: 660 }] },
  // One short beep every 4 s.
  fault: { period: 4, wave: 'sine', gain: 0.8, tones: [{ at: 0, dur: 0.25, hz: 1000 }] },
};

const RAMP_S = 0.008; // no clicks at the tone edges

function wave(kind: PatternSpec['wave'], phase: number): number {
  const x = phase - Math.floor(phase); // 0..1
  switch (kind) {
    case 'sine':
      return Math.sin(2 * Math.PI * x);
    case 'triangle':
      return 1 - 4 * Math.abs(x - 0.5);
    case 'square':
      return Math.tanh(4 * Math.sin(2 * Math.PI * x)); // a softened square: loud and buzzy, less aliasing
  }
}

/** One cycle of a pattern as samples. Pure (unit-testable). */
export function renderPattern(spec: PatternSpec, sampleRate: number): Float32Array {
  const samples = new Float32Array(Math.round(spec.period * sampleRate));
  for (const tone of spec.tones) {
    const start = Math.round(tone.at * sampleRate);
    const length = Math.round(tone.dur * sampleRate);
    const ramp = Math.max(1, Math.round(RAMP_S * sampleRate));
    for (let i = 0; i < length && start + i < samples.length; i++) {
      const envelope = Math.min(1, i / ramp, (length - 1 - i) / ramp);
      samples[start + i] = spec.gain * envelope * wave(spec.wave, (tone.hz * i) / sampleRate);
    }
  }
  return samples;
}

export type AudioState = 'running' | 'blocked' | 'unsupported';

export interface AlarmSounder {
  state(): AudioState;
  onState(listener: (state: AudioState) => void): () => void;
  /** null: quiet. Switching takes effect at once (SILENCE must not wait for a cycle to end). */
  play(pattern: SoundPattern | null): void;
  playing(): SoundPattern | null;
  /** Resumes the context; works inside a user gesture (or when the browser allows autoplay). */
  unlock(): void;
  /** The peak amplitude the page sends to the speakers right now (0..1), read from an AnalyserNode. */
  level(): number;
  close(): void;
}

/** What a test can read in the page: window.__kioskAudio. */
export interface KioskAudioProbe {
  context: AudioContext | null;
  analyser: AnalyserNode | null;
  pattern: () => SoundPattern | null;
  level: () => number;
  state: () => AudioState;
}

export function createAlarmSounder(): AlarmSounder {
  const Context: typeof AudioContext | undefined = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  const listeners = new Set<(state: AudioState) => void>();
  let current: SoundPattern | null = null;
  if (!Context) {
    return {
      state: () => 'unsupported', onState: () => () => undefined, play: (p) => void (current = p), playing: () => current,
      unlock: () => undefined, level: () => 0, close: () => undefined,
    };
  }
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  analyser.connect(context.destination);
  const samples = new Float32Array(analyser.fftSize);
  const buffers = new Map<SoundPattern, AudioBuffer>();
  let source: AudioBufferSourceNode | null = null;

  const state = (): AudioState => (context.state === 'running' ? 'running' : 'blocked');
  context.onstatechange = () => {
    for (const listener of listeners) listener(state());
  };

  const bufferOf = (pattern: SoundPattern): AudioBuffer => {
    let buffer = buffers.get(pattern);
    if (!buffer) {
      const data = renderPattern(PATTERNS[pattern], context.sampleRate);
      buffer = context.createBuffer(1, data.length, context.sampleRate);
      buffer.getChannelData(0).set(data);
      buffers.set(pattern, buffer);
    }
    return buffer;
  };

  // Any tap, click or key on the page is a user gesture the browser accepts for resuming.
  const unlock = () => {
    if (context.state !== 'running' && context.state !== 'closed') void context.resume().catch(() => undefined);
  };
  const gestures = ['pointerdown', 'keydown', 'touchend'] as const;
  for (const type of gestures) document.addEventListener(type, unlock, { capture: true });

  const sounder: AlarmSounder = {
    state,
    onState(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    play(pattern) {
      if (pattern === current) return;
      current = pattern;
      if (source) {
        source.stop();
        source.disconnect();
        source = null;
      }
      if (!pattern) return;
      source = context.createBufferSource();
      source.buffer = bufferOf(pattern);
      source.loop = true;
      source.connect(analyser);
      source.start();
    },
    playing: () => current,
    unlock,
    level() {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      return peak;
    },
    close() {
      sounder.play(null);
      for (const type of gestures) document.removeEventListener(type, unlock, { capture: true });
      listeners.clear();
      void context.close().catch(() => undefined);
    },
  };
  (window as unknown as { __kioskAudio?: KioskAudioProbe }).__kioskAudio = {
    context, analyser, pattern: () => current, level: () => sounder.level(), state,
  };
  return sounder;
}
