// The broker's connection registry: who is connected, as what, and since which login. It holds the
// session each connection logged in with (what the ACL judges, DEV-6), the current connection of
// each device (so a takeover's old connection does not mark the device offline, issue 16.3), the
// open connections the counts are taken from (issue 16.2), the credential each device connection
// was admitted with (a reset or removal ends it, DEV-5), and LIC-5's admission of one more device.
// The aedes hooks and events (broker.ts, hooks.ts) tell it what happened; it reads no packet.
import type { Client } from 'aedes';
import type { Logger } from '../core/log.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { Ingest } from '../ingest/pipeline.ts';
import type { Session } from './acl.ts';

export interface ConnectionRegistryDeps {
  devices: Pick<DeviceCache, 'get'>;
  ingest: Pick<Ingest, 'handleDisconnect'>;
  log: Logger;
  /** LIC-5: how many distinct devices may be connected at once (the license's max_devices). Default: no limit. */
  deviceLimit?: () => number;
  /** Where each connection that completed its CONNECT is counted (`BrokerStats.connects`). */
  stats: { connects: number };
}

/** The client's address, for the log and the login throttle (null once its socket is gone). */
export const remoteOf = (client: Client) => {
  const conn = client.conn as { remoteAddress?: string };
  return conn?.remoteAddress ?? null;
};

export function createConnectionRegistry(deps: ConnectionRegistryDeps) {
  const { stats } = deps;
  const sessions = new WeakMap<Client, Session>();
  /**
   * The current connection of each device (and pending serial), from its successful login on, so a
   * takeover's old connection does not mark it offline. A closed connection may linger here when
   * aedes never reports its disconnect (closed during its CONNECT steps): every reader checks `closed`.
   */
  const currentClient = new Map<string, Client>();
  /**
   * Issue 16.2: the connections that completed their CONNECT and are open. aedes 1.2 can emit
   * 'clientReady' after 'clientDisconnect' for a connection closed during its CONNECT steps, so a
   * counter drifted upwards: a closed connection is never added, and one closed without its
   * disconnect being reported is pruned when counted.
   */
  const openClients = new Set<Client>();
  /** The credential a device connection was admitted with; a change (reset, removal) ends it. */
  const admittedWith = new WeakMap<Client, string | null>();
  /** While we close the connections ourselves, their wills and disconnects say nothing about the devices. */
  let stopping = false;

  /** A registered device (not a pending serial, not the admin user) whose current connection is open. */
  const deviceConnected = (sn: string): boolean => {
    const client = currentClient.get(sn);
    return !!client && !client.closed && sessions.get(client)?.role === 'device';
  };

  /** LIC-5: distinct registered devices connected now, from the connections themselves (16.2). */
  function devicesConnected(): number {
    let count = 0;
    for (const sn of currentClient.keys()) if (deviceConnected(sn)) count++;
    return count;
  }

  return {
    /** The session a connection logged in with; none for the appliance's own publishes or before login. */
    sessionOf: (client: Client): Session | undefined => sessions.get(client),

    /**
     * LIC-5: a device is admitted while fewer distinct devices than the license allows are connected;
     * a device reconnecting (taking over its own session) is always admitted, and devices already
     * connected are never dropped when the limit is lowered. Checked and counted in the same turn of
     * the event loop, so concurrent CONNECTs cannot both take the last place.
     */
    admitsDevice(sn: string): boolean {
      if (!deps.deviceLimit || deviceConnected(sn)) return true;
      const limit = deps.deviceLimit();
      // currentClient holds at least every connected device: the exact (O(n)) count only near the limit.
      return currentClient.size < limit || devicesConnected() < limit;
    },

    /** A successful login. Tracked from here, not from 'clientReady', so a change right after CONNACK still finds it. */
    loggedIn(client: Client, session: Session) {
      sessions.set(client, session);
      if (session.role !== 'admin') {
        currentClient.set(session.sn, client);
        admittedWith.set(client, deps.devices.get(session.sn)?.password_hash ?? null);
      }
    },

    /** Whether this connection is its device's current one (not one the device has since replaced, 16.3). */
    isCurrent: (sn: string, client: Client): boolean => currentClient.get(sn) === client,

    /** aedes' 'clientReady': the CONNECT completed. */
    onClientReady(client: Client) {
      if (client.closed) return; // issue 16.2: closed during its CONNECT steps, after its disconnect was reported
      openClients.add(client);
      stats.connects++;
    },

    /** aedes' 'clientDisconnect': the end of a device's current connection is the device going away (ING-7). */
    onClientDisconnect(client: Client) {
      openClients.delete(client);
      const session = sessions.get(client);
      if (!session || session.role === 'admin' || currentClient.get(session.sn) !== client) return;
      currentClient.delete(session.sn);
      if (!stopping) deps.ingest.handleDisconnect(session.sn);
    },

    /** After device settings change: connections of removed or disabled devices, or of a replaced credential, end. */
    closeRevoked() {
      for (const [sn, client] of currentClient) {
        const session = sessions.get(client);
        if (session?.role !== 'device') continue;
        const device = deps.devices.get(sn);
        if (device && device.enabled && device.password_hash === admittedWith.get(client)) continue;
        deps.log.info({ sn, reason: !device ? 'removed' : !device.enabled ? 'disabled' : 'credential changed' }, 'closing device connection');
        client.close();
      }
    },

    /** Open connections that completed their CONNECT (issue 16.2). */
    openCount(): number {
      for (const client of openClients) if (client.closed) openClients.delete(client);
      return openClients.size;
    },
    isConnected: (sn: string): boolean => currentClient.get(sn)?.closed === false,
    /** LIC-5: distinct registered devices connected now. */
    devicesConnected,

    /** At start: nobody is connected yet, and disconnects speak for the devices again. */
    reset() {
      stopping = false;
      currentClient.clear();
      openClients.clear();
    },
    /** At stop: the broker closes every connection itself, so their wills and disconnects say nothing. */
    beginStopping() {
      stopping = true;
    },
    get stopping() {
      return stopping;
    },
  };
}
export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
