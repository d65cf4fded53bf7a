/** The ports of src/core/host.ts over a Durable Object's state: the one place they meet. */
import type { ObjectHost, SqlStore } from "../src/core/host";

export function hostOf(ctx: DurableObjectState): ObjectHost {
  return {
    kv: ctx.storage.kv,
    sockets: {
      accept: (ws, tags) => ctx.acceptWebSocket(ws, tags),
      sockets: (tag) => ctx.getWebSockets(tag),
      tags: (ws) => ctx.getTags(ws),
    },
    alarm: {
      get: () => ctx.storage.getAlarm(),
      set: (atMs) => ctx.storage.setAlarm(atMs),
      clear: () => ctx.storage.deleteAlarm(),
    },
    waitUntil: (work) => ctx.waitUntil(work),
    deleteAll: async () => {
      await ctx.storage.deleteAlarm();
      await ctx.storage.deleteAll();
    },
  };
}

export function sqlOf(ctx: DurableObjectState): SqlStore {
  return {
    exec: (query, ...bindings) => ctx.storage.sql.exec(query, ...bindings) as never,
    transaction: (run) => ctx.storage.transactionSync(run),
  };
}
