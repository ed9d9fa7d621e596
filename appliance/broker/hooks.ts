// The aedes instance with our hooks: who may connect (DEV-5, LIC-5, [MQTT-3.1.3-8]), who may
// publish and subscribe where (DEV-6), and the hand-off of each publish. A device's reading goes
// from authorizePublish straight into the ingest pipeline, whose callback aedes waits for before
// the PUBACK (ING-6): the PUBACK means the reading and its alarm consequences are committed. A
// status goes to ingest too, except the Will of a connection the device has replaced (16.3).
// authorizePublish is the ingest hot path: add nothing to what it does per publish.
import { Aedes, type Client, type Subscription } from 'aedes';
import type { Logger } from '../core/log.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import { decidePublish, maySubscribe } from './acl.ts';
import { CONNACK, type createAuthenticator, type Refusal } from './authenticate.ts';
import { remoteOf, type ConnectionRegistry } from './connections.ts';

export interface HookDeps {
  /** Checks a CONNECT's credentials (authenticate.ts). */
  authenticate: ReturnType<typeof createAuthenticator>;
  connections: ConnectionRegistry;
  ingest: Ingest;
  log: Logger;
  /** Counters the hooks add to (`BrokerStats`). */
  stats: { aclViolations: number; deniedSubscriptions: number };
  countRefusal: (reason: Refusal) => void;
  /** `mqtt.connect_timeout_s` in ms. */
  connectTimeoutMs: number;
}

type AuthError = Error & { returnCode: number };
const authError = (message: string, returnCode: number) => Object.assign(new Error(message), { returnCode }) as AuthError;

export function buildAedes(deps: HookDeps): Promise<Aedes> {
  const { connections, ingest, log, stats, countRefusal } = deps;
  const emptyIdPersistent = new WeakSet<Client>();
  return Aedes.createBroker({
    connectTimeout: deps.connectTimeoutMs, // issue 16.1: aedes' default gave anyone 30 s before CONNECT
    // [MQTT-3.1.3-8]: a zero-byte client id with CleanSession 0 gets CONNACK 0x02.
    preConnect(client, packet, callback) {
      if (!packet.clientId && !packet.clean) emptyIdPersistent.add(client);
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      if (emptyIdPersistent.has(client)) {
        countRefusal('empty_client_id');
        return callback(authError('identifier rejected', CONNACK.IDENTIFIER_REJECTED) as never, false);
      }
      deps.authenticate(username, password, remoteOf(client)).then(
        (result) => {
          // Gone while its password was checked: aedes drops it; it must not be counted (16.2).
          if (client.closed) return callback(null, false);
          if (!result.ok) {
            countRefusal(result.refusal);
            // debug: a flood of refused CONNECTs must not flood the log (the limiter sums them up, issue 16.4)
            log.debug({ username, remote: remoteOf(client), reason: result.refusal }, 'connection refused');
            return callback(authError(result.refusal, result.returnCode) as never, false);
          }
          if (result.session.role === 'device' && !connections.admitsDevice(result.session.sn)) {
            countRefusal('license');
            log.warn({ username, remote: remoteOf(client), reason: 'license', connected: connections.devicesConnected() }, 'connection refused: the license allows no more devices (20003)');
            return callback(authError('license: device limit reached (20003)', CONNACK.NOT_AUTHORIZED) as never, false);
          }
          connections.loggedIn(client, result.session);
          callback(null, true);
        },
        (err) => {
          log.error({ err }, 'authentication failed');
          callback(authError('server unavailable', 3) as never, false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      const session = client && connections.sessionOf(client);
      if (!client || !session) return callback(null); // the appliance's own publishes
      const decision = decidePublish(session, packet.topic);
      if (!decision.allow) {
        // DEV-6: outside its ACL → counted and disconnected (the error closes the connection).
        stats.aclViolations++;
        if (session.role !== 'admin') ingest.countAclViolation(session.sn);
        log.warn({ session, topic: packet.topic, remote: remoteOf(client) }, decision.reason);
        return callback(new Error(decision.reason));
      }
      const payload = packet.payload as Buffer;
      if (decision.route === 'up') {
        // Issue 16.9: readings are not state; none is kept for later subscribers. An empty retained
        // publish is MQTT's "clear what is retained here": nothing to clear, and not a reading.
        const clearing = packet.retain && payload.length === 0;
        packet.retain = false;
        if (clearing) return callback(null);
        return ingest.handleUp(decision.sn, payload, packet.qos, remoteOf(client), callback);
      }
      if (decision.route === 'status' && !connections.stopping) {
        const isWill = (client as unknown as { will?: unknown }).will === packet;
        if (isWill && !connections.isCurrent(decision.sn, client)) {
          // Issue 16.3: the Will of a connection the device has replaced (aedes closes the old one when
          // it reconnects with the same client id) says nothing about the device: not passed to
          // ingest, and not published (its retained "offline" would stand for a connected device).
          log.debug({ sn: decision.sn, remote: remoteOf(client) }, 'will of a replaced connection ignored');
          return callback(new Error('will of a replaced connection'));
        }
        ingest.handleStatus(decision.sn, payload, isWill);
      }
      callback(null);
    },
    authorizeSubscribe(client, subscription: Subscription, callback) {
      const session = connections.sessionOf(client);
      if (session && maySubscribe(session, subscription.topic)) return callback(null, subscription);
      stats.deniedSubscriptions++;
      callback(null, null); // SUBACK 0x80 for this filter
    },
  });
}
