// How many Durable Object requests a tool call causes, read from the service's own counters
// (`GET /api/v1/diagnostics/object-requests`, on when MCP_CONFIG has `diagnostics: { object_requests: true }`,
// which the bench's service instances always set: bench/lib/context.mjs). Under wrangler dev the Worker and every
// object share one isolate, so the counts are the whole server's; the runner reads them right before and right
// after each measured batch, while only that batch's target talks to the server.

export const OBJECT_REQUESTS_PATH = "/api/v1/diagnostics/object-requests";

/** The object classes the service counts, in print order. */
export const OBJECT_CLASSES = /** @type {const} */ (["session", "upstream", "agent", "metrics"]);

/** @typedef {Record<(typeof OBJECT_CLASSES)[number], number>} ObjectCounts */

/**
 * A reader of one service instance's counters. Resolves null when the instance has none (404: the code under
 * test predates the route, e.g. `--code head` on an older commit), logging that once, and from then on asks no
 * more; any other answer is an error (a bench reading wrong figures must not go unnoticed).
 * @param {import("./http.mjs").JsonClient} client carries the bearer token
 * @param {string} label server name, for the message
 * @param {(line: string) => void} log
 * @returns {() => Promise<ObjectCounts | null>}
 */
export function objectRequestReader(client, label, log) {
  let available = true;
  return async () => {
    if (!available) return null;
    const reply = await client.get(OBJECT_REQUESTS_PATH);
    if (reply.status === 404) {
      available = false;
      log(`note: ${label} has no object-request counters (${OBJECT_REQUESTS_PATH} answers 404): requests per call not shown for it`);
      return null;
    }
    let body;
    try {
      body = JSON.parse(reply.text);
    } catch {
      body = undefined;
    }
    if (reply.status !== 200 || !OBJECT_CLASSES.every((name) => Number.isFinite(body?.[name]))) {
      throw new Error(`${label} ${OBJECT_REQUESTS_PATH}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
    }
    return /** @type {ObjectCounts} */ (Object.fromEntries(OBJECT_CLASSES.map((name) => [name, body[name]])));
  };
}

/**
 * Requests per call between two readings (null if either is missing).
 * @param {ObjectCounts | null | undefined} before
 * @param {ObjectCounts | null | undefined} after
 * @param {number} calls
 * @returns {ObjectCounts | null}
 */
export function perCall(before, after, calls) {
  if (!before || !after || calls <= 0) return null;
  return /** @type {ObjectCounts} */ (Object.fromEntries(OBJECT_CLASSES.map((name) => [name, (after[name] - before[name]) / calls])));
}
