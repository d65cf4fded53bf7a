/**
 * What a hosting object (a Durable Object, in production) gives the plain modules that run inside it:
 * storage, its hibernatable WebSockets, its alarm, background work. The modules know these ports, never
 * Durable Objects; durable-objects/host.ts builds them from an object's state, and unit tests from Maps.
 */

/** Synchronous key-value storage (SQLite-backed objects' `storage.kv`). */
export interface KvStore {
  get(key: string): unknown;
  put(key: string, value: unknown): void;
  delete(key: string): unknown;
}

/** Synchronous SQL storage (SQLite-backed objects' `storage.sql`), one transaction at a time. */
export interface SqlStore {
  exec<T extends Record<string, unknown>>(query: string, ...bindings: unknown[]): { toArray(): T[]; one(): T } & Iterable<T>;
  transaction(run: () => void): void;
}

/** WebSockets accepted for hibernation: they outlive the instance; tags tell them apart. */
export interface SocketHost {
  accept(ws: WebSocket, tags: string[]): void;
  sockets(tag?: string): WebSocket[];
  tags(ws: WebSocket): string[];
}

/** One alarm per object; an alarm that is already due is delivered once. */
export interface AlarmHost {
  get(): Promise<number | null>;
  set(atMs: number): Promise<void>;
  clear(): Promise<void>;
}

export interface ObjectHost {
  kv: KvStore;
  sockets: SocketHost;
  alarm: AlarmHost;
  /** Keeps the object alive for work that outlasts the current request (metrics, notifications). */
  waitUntil(work: Promise<unknown>): void;
  /** Removes everything the object stored (the alarm included). */
  deleteAll(): Promise<void>;
}
