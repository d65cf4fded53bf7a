/**
 * A direct `tools/call` as what it is on the wire: one JSON-RPC POST on the route the upstream object
 * published, its answer read as JSON or from the SSE stream the upstream replies with. Building an SDK client
 * for every call (a transport, a connect with `prior`, the client's result checks) cost more CPU than the rest of
 * a call's own work in the service, measured under `wrangler dev` (docs/benchmarks.md, issue 15): the SDK keeps
 * everything stateful — discovery, the legacy handshake, notification streams, probes — in upstream-client.ts.
 *
 * A tool whose input schema declares `x-mcp-header` parameters needs their values mirrored into `Mcp-Param-*`
 * headers (2026-07-28, SEP-2243): {@link needsSdkCall} sends those through the SDK client instead.
 */
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/client";
import { createParser } from "eventsource-parser";
import { z } from "zod";
import { VERSION } from "../../version";
import { DEFAULT_ANSWER_LIMITS, readCallResult, type CallUpstream } from "./result-mapping";
import { failure, OversizedAnswer, oversized, type UpstreamTool } from "./upstream-model";

/** The JSON-RPC error that says "not this protocol version": the route is stale, as after a restart. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;
/** The one request of a POST: its id only has to match its own answer. */
const REQUEST_ID = 1;
const CLIENT_INFO = { name: "xiaozhi-mcp-service", version: VERSION };


const RpcAnswer = z.looseObject({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number()]).nullable().optional(),
  result: z.looseObject({ resultType: z.string().optional() }).optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
});
type RpcAnswer = z.infer<typeof RpcAnswer>;

/** Tools whose arguments must also travel in headers: called through the SDK client, which mirrors them. */
const sdkCalls = new WeakMap<UpstreamTool, boolean>();
export function needsSdkCall(tool: UpstreamTool): boolean {
  let needs = sdkCalls.get(tool);
  if (needs === undefined) {
    needs = JSON.stringify(tool.inputSchema).includes('"x-mcp-header"');
    sdkCalls.set(tool, needs);
  }
  return needs;
}

export const postToolCall: CallUpstream = async (target, route, tool, args, timeoutMs, limits = DEFAULT_ANSWER_LIMITS) => {
  const what = `tools/call ${tool.name} on ${target.name}`;
  const headers = new Headers(target.headers);
  headers.set("content-type", "application/json");
  headers.set("accept", "application/json, text/event-stream");
  headers.set("mcp-protocol-version", route.protocol_version);
  let params: Record<string, unknown> = { name: tool.name, arguments: args };
  if (route.era === "modern") {
    headers.set("mcp-method", "tools/call");
    headers.set("mcp-name", headerValue(tool.name));
    params = { ...params, _meta: { [PROTOCOL_VERSION_META_KEY]: route.protocol_version, [CLIENT_INFO_META_KEY]: CLIENT_INFO, [CLIENT_CAPABILITIES_META_KEY]: {} } };
  } else if (route.session_id) {
    headers.set("mcp-session-id", route.session_id);
  }
  const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
  let response: Response;
  try {
    response = await fetch(target.url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: REQUEST_ID, method: "tools/call", params }), signal });
  } catch (error) {
    return signal.aborted ? failure("timeout", `${what} took longer than ${timeoutMs} ms`) : failure("unreachable", `${what}: ${messageOf(error)}`);
  }
  let answer: RpcAnswer | undefined;
  try {
    answer = await readAnswer(response, limits.maxBytes);
  } catch (error) {
    if (error instanceof OversizedAnswer) return oversized(what, limits.maxBytes);
    // The request was out and the answer broke off: the call may have run.
    return signal.aborted ? failure("timeout", `${what} took longer than ${timeoutMs} ms`) : failure("lost", `${what}: connection to ${target.name} lost: ${messageOf(error)}`);
  }
  if (answer?.error?.code === UNSUPPORTED_PROTOCOL_VERSION) return failure("session_expired", `${what}: the upstream no longer speaks ${route.protocol_version}`);
  if (!response.ok) {
    // The spec says 404 for a session the server forgot; several servers answer 400 "No valid session ID".
    if (response.status === 404 || (response.status === 400 && /session/i.test(answer?.error?.message ?? ""))) {
      return failure("session_expired", `${what}: the upstream no longer knows this MCP session`);
    }
    if (answer?.error) return failure("protocol", `${what}: ${answer.error.message}`, { mcp_code: answer.error.code });
    return failure("http", `${what}: HTTP ${response.status}`, { status: response.status });
  }
  if (!answer) return failure("protocol", `${what}: no JSON-RPC answer`);
  if (answer.error) return failure("protocol", `${what}: ${answer.error.message}`, { mcp_code: answer.error.code });
  if (answer.result?.resultType !== undefined && answer.result.resultType !== "complete") {
    // Input the user would have to give (2026-07-28 MRTR): a voice turn cannot ask, so the call fails clearly.
    return failure("protocol", `${what}: the tool asked for input (${answer.result.resultType}), which this service cannot give`);
  }
  return readCallResult(answer.result, target.name, limits.maxDepth);
};

/**
 * The answer to our request: the JSON body, or the first SSE message that answers it (the stream is then let
 * go). Read no further than `maxBytes`, whatever the upstream declares or sends.
 */
async function readAnswer(response: Response, maxBytes: number): Promise<RpcAnswer | undefined> {
  const type = response.headers.get("content-type") ?? "";
  if (Number(response.headers.get("content-length") ?? 0) > maxBytes) {
    response.body?.cancel().catch(() => undefined);
    throw new OversizedAnswer(maxBytes);
  }
  if (!response.body) return undefined;
  if (!type.includes("text/event-stream")) {
    let text = "";
    await readUpTo(response.body, maxBytes, (chunk) => {
      text += chunk;
      return false;
    });
    if (text === "") return undefined;
    try {
      const parsed = RpcAnswer.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
  // Bytes fed to the parser straight from the reader: two TransformStreams (decoder, parser) per call cost more
  // CPU than reading the few chunks of one answer (profile of the `/mcp` echo, docs/benchmarks.md).
  let answer: RpcAnswer | undefined;
  const parser = createParser({
    onEvent(event) {
      if (answer || (event.event !== undefined && event.event !== "message")) return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // a priming event (empty data) or a comment-like line
      }
      const parsed = RpcAnswer.safeParse(message);
      // Notifications (progress, logs) may come first; the answer is the message carrying our id.
      if (parsed.success && parsed.data.id === REQUEST_ID && (parsed.data.result !== undefined || parsed.data.error !== undefined)) answer = parsed.data;
    },
  });
  await readUpTo(response.body, maxBytes, (chunk) => {
    parser.feed(chunk);
    return answer !== undefined;
  });
  if (!answer) throw new Error("the stream ended before the answer");
  return answer;
}

/**
 * Hands the body's text to `take` chunk by chunk until `take` has what it needs (returns true) or the body ends,
 * reading no more than `maxBytes` (a declared length is not trusted: chunked bodies have none). The rest of the
 * body is let go.
 */
async function readUpTo(body: ReadableStream<Uint8Array>, maxBytes: number, take: (text: string) => boolean): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let read = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        take(decoder.decode());
        return;
      }
      read += value.byteLength;
      if (read > maxBytes) throw new OversizedAnswer(maxBytes);
      if (take(decoder.decode(value, { stream: true }))) return;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** A header value as 2026-07-28 carries it: printable ASCII as is, anything else as `=?base64?…?=` of its UTF-8. */
function headerValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value) && value.trim() === value) return value;
  let binary = "";
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte);
  return `=?base64?${btoa(binary)}?=`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
