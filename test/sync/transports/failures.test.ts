// Issue 17.7: what went wrong, in words (English / 中文), for the admin's status and test button.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerDisconnect, describeFailure, failed, safeUrl, say } from '../../../appliance/sync/transports/failures.ts';

const where = 'cloud.example.com:8883';
const coded = (message: string, code: string | number) => Object.assign(new Error(message), { code });

test('network, TLS and MQTT failures are said in words in both languages', () => {
  const cases: Array<[unknown, RegExp]> = [
    [coded('Connection refused: Bad username or password', 4), /^the broker refused the user name or password \/ 服务器拒绝了用户名或密码$/],
    [coded('Connection refused: Bad User Name or Password', 134), /^the broker refused the user name or password/],
    [coded('Connection refused: Not authorized', 5), /^the broker refused the connection: not authorised .* \/ 服务器拒绝连接：未授权/],
    [coded('Connection refused: Identifier rejected', 2), /refused the client id \/ 服务器拒绝了客户端 ID/],
    [coded('connect ECONNREFUSED 1.2.3.4:8883', 'ECONNREFUSED'), /^connection refused by cloud\.example\.com:8883 .* \/ cloud\.example\.com:8883 拒绝连接/],
    [coded('getaddrinfo ENOTFOUND cloud.example.com', 'ENOTFOUND'), /^host name not found: cloud\.example\.com:8883 \/ 找不到主机名/],
    [coded('connect EHOSTUNREACH', 'EHOSTUNREACH'), /^host unreachable: .* \/ 主机不可达/],
    [coded('read ECONNRESET', 'ECONNRESET'), /^connection reset by cloud\.example\.com:8883 \/ 连接被/],
    [new Error('connack timeout'), /^no answer to CONNECT from cloud\.example\.com:8883 \(timeout\) \/ .*未响应 CONNECT（超时）/],
    [new Error('Keepalive timeout'), /froze: no answer within 1\.5× the keepalive \/ .*链路冻结/],
    [coded('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), /^TLS failed: the certificate of .* is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\); set the CA certificate \/ TLS 失败/],
    [coded("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), /not trusted \(ERR_TLS_CERT_ALTNAME_INVALID\)/],
    [coded('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), /does not speak TLS \(a plain port\?\) \/ .*不是 TLS 端口/],
    [coded('tlsv13 alert certificate required', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), /wants a client certificate it accepts/],
    [coded('Publish error: Quota exceeded', 151), /refused the message: Quota exceeded \(MQTT 5 reason code 151\) \/ .*拒绝了该消息/],
    [new BrokerDisconnect(142), /closed the connection: session taken over \(another client connected with the same client id\) \(MQTT 5 reason code 142\) \/ .*会话被接管/],
    [new Error('something new'), /^cloud\.example\.com:8883: something new \/ cloud\.example\.com:8883：something new$/],
  ];
  for (const [err, expected] of cases) assert.match(say(describeFailure(err, where)), expected);
  assert.equal(failed({ en: 'it broke', zh: '坏了' }), 'Failed: it broke / 失败：坏了');
});

test('URLs in messages lose their credentials', () => {
  assert.equal(safeUrl('mqtts://box:s3cret@cloud.example.com:8883'), 'mqtts://cloud.example.com:8883');
  assert.equal(safeUrl('https://ingest.example.com/v1/batches?token=abc'), 'https://ingest.example.com/v1/batches');
  assert.equal(safeUrl('not a url'), '(invalid URL)');
});
