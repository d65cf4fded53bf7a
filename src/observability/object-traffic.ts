/**
 * Requests each Durable Object class received in this isolate, counted by the object shells
 * (durable-objects/). It answers one question: how many objects besides the session's own does a tool call
 * reach? The bench reads it (`diagnostics.object_requests`, docs/benchmarks.md); production has no use for
 * it, since on Cloudflare every object runs in an isolate of its own and these counts never add up. A map
 * increment per request: nothing on the request path waits for it.
 */
export type ObjectClass = "session" | "upstream" | "agent" | "metrics";

const received: Record<ObjectClass, number> = { session: 0, upstream: 0, agent: 0, metrics: 0 };

export function countObjectRequest(objectClass: ObjectClass): void {
  received[objectClass] += 1;
}

/** The counts so far (a copy). */
export function objectRequestCounts(): Record<ObjectClass, number> {
  return { ...received };
}
