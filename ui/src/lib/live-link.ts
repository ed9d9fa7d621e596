// UI-2 / API-6: the kiosk's WebSocket. It reconnects by itself with backoff (the kiosk has no
// keyboard), stops on close code 4401 (a bad token never gets better by retrying), and watches
// the server's once-a-second `realtime` heartbeat: when none came for `timeoutMs` the link counts
// as stale even if the socket looks open (a half-open TCP connection looks exactly like that),
// and after twice that it is dropped and dialled again.
import type { ClientMessage, ServerMessage } from '../../../appliance/contract/live.ts';

export type LinkState = 'connecting' | 'live' | 'stale' | 'lost' | 'unauthorized';

export interface LiveLinkOptions {
  token: string;
  timeoutMs: number;
  onMessage: (message: ServerMessage) => void;
  onState: (state: LinkState) => void;
  /** For tests of the backoff; default the page's origin. */
  url?: string;
}

const BACKOFF_MS = [500, 1000, 2000, 3000, 5000];
const UNAUTHORIZED = 4401;

export function createLiveLink(options: LiveLinkOptions) {
  let socket: WebSocket | null = null;
  let state: LinkState = 'connecting';
  let attempt = 0;
  let lastBeat = 0;
  let retryTimer: number | undefined;
  let stopped = false;
  let timeoutMs = options.timeoutMs;

  const setState = (next: LinkState) => {
    if (next === state) return;
    state = next;
    options.onState(next);
  };

  function connect() {
    if (stopped) return;
    setState(state === 'lost' ? 'lost' : 'connecting');
    const base = options.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    const ws = new WebSocket(`${base}/ws/dashboard?token=${encodeURIComponent(options.token)}`);
    socket = ws;
    ws.onmessage = (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (socket !== ws) return;
      if (message.type === 'snapshot' || message.type === 'realtime') {
        lastBeat = performance.now();
        attempt = 0;
        setState('live');
      }
      options.onMessage(message);
    };
    ws.onclose = (event) => {
      if (socket !== ws || stopped) return;
      if (event.code === UNAUTHORIZED) {
        socket = null;
        return setState('unauthorized');
      }
      drop(ws);
    };
  }

  /** Forgets the socket at once (a dead peer's close handshake can take minutes) and dials again later. */
  function drop(ws: WebSocket) {
    socket = null;
    ws.onmessage = null;
    ws.onclose = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(4000, 'reconnecting');
    setState('lost');
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    attempt++;
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(connect, delay);
  }

  // The watchdog: no heartbeat for timeoutMs → stale; for 2× → drop and reconnect.
  const watchdog = window.setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const silentMs = performance.now() - lastBeat;
    if (silentMs > 2 * timeoutMs) drop(socket);
    else if (silentMs > timeoutMs) setState('stale');
  }, 250);

  connect();

  return {
    state: () => state,
    setTimeoutMs(ms: number) {
      timeoutMs = ms;
    },
    send(message: ClientMessage) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    stop() {
      stopped = true;
      window.clearInterval(watchdog);
      window.clearTimeout(retryTimer);
      socket?.close(1000, 'page closed');
      socket = null;
    },
  };
}
export type LiveLink = ReturnType<typeof createLiveLink>;
