// How the errors that end a connection are told apart and counted (issue 16.1). Before login an
// oversized packet or a CONNECT (or TLS handshake) that did not come within `mqtt.connect_timeout_s`
// is a refusal, counted in `BrokerStats.refused` and logged at debug only: anyone on the LAN can
// send these, and a flood of them must not flood the log. A logged-in sender's oversized packet is
// the device's: counted against it (a PUBLISH) and logged as a warning. Everything else is debug.
import type { Client } from 'aedes';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/log.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import type { Session } from './acl.ts';
import { remoteOf } from './connections.ts';
import { PacketTooLarge } from './packet-limit.ts';

/** Refusals counted here, before a connection has logged in. */
export type EarlyRefusal = 'too_large' | 'connect_timeout';

/** aedes' error for a connection whose CONNECT did not arrive within `connectTimeout`. */
export const CONNECT_TIMEOUT_MESSAGE = 'connect did not arrive in time';

export interface ConnectionErrorDeps {
  sessionOf: (client: Client) => Session | undefined;
  countRefusal: (reason: EarlyRefusal) => void;
  ingest: Pick<Ingest, 'countTooLarge'>;
  log: Logger;
}

export function createConnectionErrors(deps: ConnectionErrorDeps) {
  const { log } = deps;
  return {
    /** aedes' 'clientError' and 'connectionError': an oversized packet or a missing CONNECT is counted (16.1). */
    onConnectionError(client: Client, err: Error) {
      if (err instanceof PacketTooLarge) {
        const session = deps.sessionOf(client);
        if (!session) {
          deps.countRefusal('too_large'); // before login: counted, not logged (anyone on the LAN can send these)
          log.debug({ remote: remoteOf(client), err: err.message }, 'connection refused: packet too large');
          return;
        }
        // A logged-in sender: no PUBACK, the connection ends (MQTT 3.1.1 has no other refusal).
        if (session.role !== 'admin' && err.cmd === 'publish') deps.ingest.countTooLarge(session.sn, err.announced);
        log.warn({ session, remote: remoteOf(client), err: err.message }, 'packet over mqtt.max_packet_bytes: connection closed');
        return;
      }
      if (err.message === CONNECT_TIMEOUT_MESSAGE) {
        deps.countRefusal('connect_timeout');
        log.debug({ remote: remoteOf(client) }, 'connection closed: no CONNECT in time');
        return;
      }
      log.debug({ client: client.id, err: err.message }, 'client error');
    },

    /**
     * The TLS server's 'tlsClientError'. Node only reports a handshake timeout; a socket that never
     * sent its hello stays open unless closed here. A handshake that timed out is a missing CONNECT.
     */
    onTlsClientError(err: NodeJS.ErrnoException, socket: TLSSocket) {
      socket.destroy();
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') deps.countRefusal('connect_timeout');
      log.debug({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed');
    },
  };
}
