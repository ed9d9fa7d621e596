// UI-5 / GB 16808: the SILENCE (消音) button and the "sound off" state. Silencing is local and
// immediate (it never waits for the network); the appliance is told afterwards for the journal.
import { t } from '../i18n/i18n.ts';
import type { SoundPattern } from './annunciator.ts';
import type { AudioState } from './sound.ts';

export type SoundState = 'sounding' | 'silenced' | 'quiet';

// Icons drawn inline: a kiosk PC may have no emoji font.
const Speaker = (props: { off: boolean }) => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
    <path d="M3 9h4l5-4v14l-5-4H3z" fill="currentColor" />
    {props.off ? <path d="M16 9l5 6M21 9l-5 6" stroke="currentColor" stroke-width="2.4" fill="none" /> : <path d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12" stroke="currentColor" stroke-width="2" fill="none" />}
  </svg>
);
const Bell = (props: { off: boolean }) => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
    <path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zM10 18a2 2 0 0 0 4 0z" fill="currentColor" />
    {props.off && <path d="M3 3l18 18" stroke="currentColor" stroke-width="2.4" />}
  </svg>
);

/** While the browser blocks audio, a striped banner across the screen; a tap on it (or anywhere) turns sound on. */
export function SoundOffBanner(props: { audio: AudioState; onEnable: () => void }) {
  if (props.audio === 'running') return null;
  const unsupported = props.audio === 'unsupported';
  return (
    <div class="sound-off" role="alert" data-audio={props.audio}>
      <button type="button" class="sound-off-button" onClick={props.onEnable}>
        <span class="sound-off-title"><Speaker off /> {t(unsupported ? 'kiosk.soundUnsupported' : 'kiosk.soundOff')}</span>
        {!unsupported && <span class="sound-off-hint">{t('kiosk.soundOffHint')}</span>}
      </button>
    </div>
  );
}

export function SilenceButton(props: { state: SoundState; pattern: SoundPattern | null; onSilence: () => void }) {
  const { state, pattern } = props;
  const hint = state === 'sounding' && pattern ? t(`kiosk.sounding.${pattern}`) : state === 'silenced' ? t('kiosk.silencedHint') : t('kiosk.soundQuiet');
  return (
    <button
      type="button"
      class={`silence silence-${state}${pattern ? ` pattern-${pattern}` : ''}`}
      data-sound={state}
      data-pattern={pattern ?? ''}
      disabled={state !== 'sounding'}
      onClick={props.onSilence}
    >
      <span class="silence-title">{state === 'silenced' ? <><Bell off /> {t('kiosk.silenced')}</> : <><Speaker off={false} /> {t('kiosk.silence')}</>}</span>
      <span class="silence-hint">{hint}</span>
    </button>
  );
}
