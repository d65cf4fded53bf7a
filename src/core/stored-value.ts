/**
 * One value in a Durable Object's synchronous KV storage, read through an in-memory copy.
 *
 * The object is the only writer of its own storage, so after the first read the copy is exactly what storage
 * holds. Without it every access is a storage read plus a zod parse, and a device tool call reads the session
 * record and the device state several times (docs/benchmarks.md, device suite). A new instance (after
 * eviction) starts with no copy and reads storage once. Values are treated as immutable: callers save new
 * objects, never change loaded ones.
 */
import type { z } from "zod";
import type { KvStore } from "./host";

export interface StoredValue<T> {
  load(): T | undefined;
  save(value: T): void;
  /** Storage was wiped (deleteAll): drop the copy too. */
  forget(): void;
  /** Deletes the value from storage. */
  remove(): void;
}

export function storedValue<T>(kv: KvStore, key: string, schema: z.ZodType<T>): StoredValue<T> {
  let copy: { value: T | undefined } | undefined;
  return {
    load() {
      copy ??= { value: schema.safeParse(kv.get(key)).data };
      return copy.value;
    },
    save(value) {
      kv.put(key, value);
      copy = { value };
    },
    forget() {
      copy = undefined;
    },
    remove() {
      kv.delete(key);
      copy = { value: undefined };
    },
  };
}
