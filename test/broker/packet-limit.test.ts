// Issue 16.1: the packet size limit on one connection's mqtt-packet parser (the hook aedes' parser
// gets in broker.ts), fed by hand. The flow test (test/flow/broker-hardening.test.ts) covers the wire.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'aedes';
import * as mqttPacket from 'mqtt-packet';
import { limitPacketSize, PacketTooLarge } from '../../appliance/broker/packet-limit.ts';

function limitedParser(maxBytes: number) {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.on('error', (err) => errors.push(err));
  assert.equal(limitPacketSize({ _parser: parser } as unknown as Client, maxBytes), true);
  return { parser, packets, errors };
}

const publish = (payloadBytes: number) =>
  mqttPacket.generate({ cmd: 'publish', topic: 'mcs/A/up', payload: Buffer.alloc(payloadBytes, 0x61), qos: 0, retain: false, dup: false });

describe('limitPacketSize', () => {
  test('packets up to the limit are parsed as before, one after another', () => {
    const { parser, packets, errors } = limitedParser(100);
    const atLimit = publish(100 - 10); // topic length (2) + topic (8) + payload
    parser.parse(Buffer.concat([atLimit, publish(5), atLimit]));
    assert.deepEqual(errors, []);
    assert.deepEqual(packets.map((p) => (p as mqttPacket.IPublishPacket).payload.length), [90, 5, 90]);
  });

  test('a packet over the limit is an error as soon as its remaining length is read, its body never waited for', () => {
    const { parser, packets, errors } = limitedParser(100);
    const tooBig = publish(91); // remaining length 101
    parser.parse(tooBig.subarray(0, 2)); // fixed header only
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof PacketTooLarge);
    assert.equal((errors[0] as PacketTooLarge).announced, 101);
    assert.equal((errors[0] as PacketTooLarge).cmd, 'publish');
    assert.deepEqual(packets, []);
  });

  test('a remaining length split over several reads is checked once it is complete', () => {
    const { parser, errors } = limitedParser(16_384);
    parser.parse(Buffer.from([0x10, 0xff])); // CONNECT, first length byte of four
    parser.parse(Buffer.from([0xff, 0xff]));
    assert.deepEqual(errors, []);
    parser.parse(Buffer.from([0x7f, 0, 4])); // 268,435,455
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as PacketTooLarge).announced, 268_435_455);
    assert.equal((errors[0] as PacketTooLarge).cmd, 'connect');
  });

  test('a parser without the step it hooks is left alone and reported', () => {
    const parser = { _parser: { parse() {} } } as unknown as Client;
    assert.equal(limitPacketSize(parser, 100), false);
  });
});
