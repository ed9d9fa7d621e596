// The broker's sockets (DEV-1): the TCP listener and, when a certificate is configured, the TLS one.
// Every socket they accept goes to aedes with the packet size limit on its parser (issue 16.1); the
// TLS handshake gets the CONNECT's time limit too (Node's default is 120 s), so what a connection may
// cost before login is bounded on both. Closing stops accepting; the open connections are aedes'.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Client } from 'aedes';
import type { Logger } from '../core/log.ts';
import { limitPacketSize } from './packet-limit.ts';

export interface ListenerDeps {
  host: string;
  log: Logger;
  maxPacketBytes: number;
  connectTimeoutMs: number;
  /** Hands a new socket to aedes (the running instance). */
  handle: (socket: Socket) => Client;
  onTlsClientError: (err: NodeJS.ErrnoException, socket: TLSSocket) => void;
}

export function createListeners(deps: ListenerDeps) {
  const servers: Server[] = [];
  let unlimitedParserLogged = false;

  /** Every new socket: aedes takes it, and its parser gets the packet size limit (16.1). */
  function accept(socket: Socket) {
    const client = deps.handle(socket);
    if (limitPacketSize(client, deps.maxPacketBytes) || unlimitedParserLogged) return;
    unlimitedParserLogged = true;
    deps.log.error('MQTT packets are not size-limited: the mqtt-packet parser is not the one packet-limit.ts was written for');
  }

  function listen(server: Server, port: number): Promise<number> {
    servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, deps.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  return {
    /** Listens for MQTT over TCP; resolves with the port (0 asks for an ephemeral one). */
    tcp: (port: number): Promise<number> => listen(createServer(accept), port),
    /** Listens for MQTT over TLS with this certificate; resolves with the port. */
    tls(tls: { port: number; cert: string; key: string }): Promise<number> {
      // Node only reports a handshake timeout ('tlsClientError'); onTlsClientError closes the socket.
      const server = createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), handshakeTimeout: deps.connectTimeoutMs }, accept);
      server.on('tlsClientError', deps.onTlsClientError);
      return listen(server, tls.port);
    },
    /** Stops accepting. Resolves once the open connections (which aedes closes) have ended. */
    close(): Promise<unknown> {
      const closed = servers.map((server) => new Promise((resolve) => server.close(resolve)));
      servers.length = 0;
      return Promise.all(closed);
    },
  };
}
