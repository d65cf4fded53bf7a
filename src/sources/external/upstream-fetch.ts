/**
 * The fetch the SDK transports use towards an upstream: a deadline on every exchange, and the one place that
 * notices the upstream saying "I do not know this session" (it restarted), which the SDK reports only as an
 * HTTP error among others.
 */
import { DEFAULT_ANSWER_LIMITS } from "./result-mapping";
import { OversizedAnswer, type UpstreamTarget } from "./upstream-model";

export interface FetchState {
  /** Set when the upstream answered a routed request with "unknown session". */
  sessionExpired: boolean;
  /** Set when an answer ran past `maxAnswerBytes` (the SDK then reports only a broken read). */
  oversized?: boolean;
}

export interface FetchPolicy {
  /** Deadline of a POST/DELETE exchange, a streamed reply included. */
  exchangeMs: number;
  /** Deadline of a GET (notification / SSE) stream's response headers; the stream itself lives on. */
  headersMs: number;
  /** Whether a request depends on state the upstream may have lost (our MCP session, the route we used). */
  routed(method: string, headers: Headers): boolean;
  /** The longest answer to a POST read (`limits.max_answer_bytes`); GET streams carry notifications for long. */
  maxAnswerBytes: number;
}

/** An object's long-lived connection: requests carrying our session are the ones a restart can orphan. */
export function connectionPolicy(target: UpstreamTarget, maxAnswerBytes = DEFAULT_ANSWER_LIMITS.maxBytes): FetchPolicy {
  return {
    maxAnswerBytes,
    exchangeMs: Math.max(target.timeout_ms, target.connect_timeout_ms) + 1_000,
    headersMs: target.connect_timeout_ms,
    // Streamable HTTP carries the session in a header, legacy SSE in the POST endpoint's query string.
    routed: (method, headers) => (target.transport === "sse" ? method === "POST" : headers.has("mcp-session-id")),
  };
}

/**
 * A direct call: one POST on a route from the catalogue, within what is left of the call's deadline. Every
 * request depends on the route, even a sessionless one: an upstream that now wants a session (400 "…session…")
 * or no longer speaks the route's era is renewed the same way as one that restarted.
 */
export function directPolicy(remainingMs: number, maxAnswerBytes = DEFAULT_ANSWER_LIMITS.maxBytes): FetchPolicy {
  return { exchangeMs: remainingMs, headersMs: remainingMs, routed: (method) => method === "POST", maxAnswerBytes };
}

export function boundedFetch(target: UpstreamTarget, state: FetchState, policy: FetchPolicy): typeof fetch {
  return async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const routed = policy.routed(method, new Headers(init?.headers));
    const signals: AbortSignal[] = init?.signal ? [init.signal] : [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (method === "GET") {
      const headersDeadline = new AbortController();
      timer = setTimeout(
        () => headersDeadline.abort(new DOMException(`no response from ${target.name} within ${policy.headersMs} ms`, "TimeoutError")),
        policy.headersMs,
      );
      signals.push(headersDeadline.signal);
    } else {
      signals.push(AbortSignal.timeout(Math.max(1, policy.exchangeMs)));
    }
    try {
      const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      if (routed && (response.status === 404 || (response.status === 400 && /session/i.test(await response.clone().text())))) {
        // The spec says 404; several popular servers (server-everything among them) answer 400 "No valid session ID".
        state.sessionExpired = true;
      }
      return method === "GET" ? response : capped(response, policy.maxAnswerBytes, state);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The answer, readable up to `maxBytes`: past that its body errors, and `state` says why. */
function capped(response: Response, maxBytes: number, state: FetchState): Response {
  const refuse = () => {
    state.oversized = true;
    return new OversizedAnswer(maxBytes);
  };
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    response.body?.cancel().catch(() => undefined);
    throw refuse();
  }
  if (!response.body) return response;
  let read = 0;
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      read += chunk.byteLength;
      if (read > maxBytes) controller.error(refuse());
      else controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counted), response);
}
