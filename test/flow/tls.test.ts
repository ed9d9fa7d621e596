// DEV-6: MQTT over TLS on its own port when a certificate and key are configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { generate } from 'selfsigned';
import { deviceUsername } from '../../appliance/contract/topics.ts';
import { publishReading, startApp, tempDir } from '../helpers/appliance.ts';

test('with a certificate configured, detectors connect over TLS and their readings are stored', async () => {
  const certs = tempDir();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec' });
  const cert = join(certs.dir, 'server.crt');
  const key = join(certs.dir, 'server.key');
  writeFileSync(cert, pems.cert);
  writeFileSync(key, pems.private);
  const app = await startApp({ mqtt: { port: 0, host: '127.0.0.1', tls_port: 0, tls_cert: cert, tls_key: key } });
  try {
    const tlsPort = app.app.testApi.ports.mqtts;
    assert.ok(tlsPort > 0, 'a TLS listener is up');
    const { password } = await app.app.testApi.addDevice({ sn: 'TLS-1', high_limit: 1000 });
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      username: deviceUsername('TLS-1'), password: password!, clientId: 'TLS-1', protocolVersion: 4,
      reconnectPeriod: 0, ca: pems.cert, servername: 'localhost',
    });
    await publishReading(client, 'TLS-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000) });
    await client.endAsync();
    assert.equal(app.app.testApi.storedReadings('TLS-1').length, 1);
    // A client that does not trust the certificate is refused by TLS itself.
    await assert.rejects(mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      username: deviceUsername('TLS-1'), password: password!, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000,
    }));
  } finally {
    await app.stop();
    certs.remove();
  }
});

test('without a certificate there is no TLS listener', async () => {
  const app = await startApp();
  try {
    assert.equal(app.app.testApi.ports.mqtts, 0);
    assert.equal(app.app.summary().mqtts, null);
  } finally {
    await app.stop();
  }
});
