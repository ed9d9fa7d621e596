// An alarm record as the engine keeps it and the API, WebSocket and UI show it (ALM-2, ALM-7).
export interface AlarmRecord {
  id: number;
  /** The device serial; null for a system alarm. */
  sn: string | null;
  /** The device serial, or the system part (disk, archive, license, channel:<kind>). */
  source: string;
  /** HIGH LOW OFFLINE LOW_BAT FAULT | DISK ARCHIVE LICENSE CHANNEL */
  type: string;
  state: 'active' | 'cleared';
  value: number | null;
  threshold: number | null;
  /** The worst value while active. */
  peak: number | null;
  detail: string | null;
  /** UTC ms. */
  triggered_at: number;
  cleared_at: number | null;
  /** Times the condition came back within the debounce window (ALM-3). */
  repeat_count: number;
  notified_at: number | null;
  ack_at: number | null;
  ack_by: string | null;
  ack_comment: string | null;
  updated_at: number;
}

export type AlarmEventKind = 'raised' | 'repeat' | 'cleared' | 'acknowledged';

export interface AlarmEvent {
  kind: AlarmEventKind;
  alarm: AlarmRecord;
}
