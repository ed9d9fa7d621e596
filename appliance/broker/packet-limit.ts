// Issue 16.1: no MQTT packet larger than `mqtt.max_packet_bytes` is ever buffered, from anyone.
//
// aedes 1.2 feeds each connection's bytes to its own mqtt-packet 9 parser, which keeps a packet's
// body until all of it has arrived: a fixed header announcing 268,435,455 bytes made the broker
// hold whatever was streamed, before CONNECT, for up to the connect timeout. Neither library has a
// limit in these versions (aedes' `maximumPacketSize` comes with 2.x, still in beta), so here is
// the smallest hook there is: the parser's `_parseLength` step, which reads the remaining length
// right after the fixed header's first byte. A length over the limit becomes a parse error
// there, before one byte of the body is kept; aedes handles it like any malformed packet
// (connectionError / clientError, socket destroyed, a logged-in client's Will published).
// The hook is per connection, never on mqtt-packet's prototype (mqtt.js clients in this process
// share that module). Should an upgrade rename the step, `limitPacketSize` says so and the broker
// logs an error (which fails every flow test) rather than losing the limit silently.
import type { Client } from 'aedes';

/** The parse error of a packet whose fixed header announces more than the limit. */
export class PacketTooLarge extends Error {
  readonly cmd: string;
  readonly announced: number;
  constructor(cmd: string, announced: number, limit: number) {
    super(`${cmd} of ${announced} bytes announced, over the ${limit}-byte limit`);
    this.cmd = cmd;
    this.announced = announced;
  }
}

/** What this module touches of mqtt-packet's parser (9.x). */
interface LengthStep {
  packet: { cmd: string; length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

/**
 * From now on, this connection's parser refuses any packet whose remaining length is over
 * `maxBytes`. False when the parser is not the one this was written for (nothing is changed).
 */
export function limitPacketSize(client: Client, maxBytes: number): boolean {
  const parser = (client as unknown as { _parser?: Partial<LengthStep> & { _states?: unknown } })._parser;
  const supported = typeof parser?._parseLength === 'function' && typeof parser._emitError === 'function' &&
    Array.isArray(parser._states) && parser._states.includes('_parseLength');
  if (!supported) return false;
  const parseLength = parser._parseLength!;
  parser._parseLength = function limitedParseLength(this: LengthStep) {
    const complete = parseLength.call(this);
    if (complete && this.packet.length > maxBytes) {
      this._emitError(new PacketTooLarge(this.packet.cmd, this.packet.length, maxBytes));
      return false;
    }
    return complete;
  };
  return true;
}
