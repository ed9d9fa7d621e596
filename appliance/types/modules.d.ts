// Declarations for the two dependencies that ship no types; only what the appliance uses.

declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';
  interface RollOptions {
    file: string;
    frequency?: 'daily' | 'hourly' | number;
    size?: string | number;
    limit?: { count?: number };
    mkdir?: boolean;
  }
  export default function roll(options: RollOptions): Promise<DestinationStream>;
}

declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';
  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
    close(): void;
  }
  export function createSocket(type: 'unix_dgram', listener?: (message: Buffer) => void): UnixDgramSocket;
}
