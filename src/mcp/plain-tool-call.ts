/**
 * The exchange every voice turn makes — a `tools/call` — told apart when it is *plain*, so the endpoint can
 * answer it without building an SDK server and transport for it. Plain means: well-formed in every part the
 * SDK checks, JSON in and JSON out, no session, no progress token, nothing an SDK ladder would refuse; in
 * either era. Anything else, and every other method, goes to the SDK, which stays the reference.
 *
 * Why: under workerd the SDK's per-exchange handling (the request classified twice, a server and a transport
 * per request, its zod checks run interpreted because Workers forbid code generation) costs about 0.35 ms of
 * CPU per call once the tool does I/O — measured against the same endpoint answering directly — which is most
 * of what the shared endpoint spends beyond a bare proxy (docs/benchmarks.md, issue 15).
 *
 * The rules are deliberately narrower than the SDK's (a capability it would accept but that is not `{}` goes
 * to the SDK), and a differential property test (plain-tool-call.test.ts) holds every answer given on this
 * path equal to the SDK's for the same request.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isJsonContentType,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
} from "@modelcontextprotocol/server";

/** A plain `tools/call`, as {@link plainToolCall} found it. */
export interface PlainToolCall {
  era: "modern" | "legacy";
  id: string | number;
  name: string;
  args: Record<string, unknown>;
}

const MODERN_VERSION = "2026-07-28";
const INTERNAL_ERROR = -32603;

/** The plain call `body` is (the JSON the request carried), or undefined when the SDK should serve it. */
export function plainToolCall(request: Request, body: unknown): PlainToolCall | undefined {
  if (request.method !== "POST" || !isObject(body) || body.method !== "tools/call" || body.jsonrpc !== "2.0") return undefined;
  if (!hasOnly(body, ["jsonrpc", "id", "method", "params"])) return undefined;
  const { id, params } = body;
  if (!(typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)))) return undefined;
  if (!isObject(params) || typeof params.name !== "string" || params.name === "") return undefined;
  if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;

  const headers = request.headers;
  const accept = headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if (!isJsonContentType(headers.get("content-type") ?? "")) return undefined;
  if (headers.has("mcp-session-id") || headers.has("last-event-id")) return undefined;

  const call = { id, name: params.name, args: params.arguments ?? {} };
  const version = headers.get("mcp-protocol-version");
  if (version === MODERN_VERSION) {
    if (headers.get("mcp-method") !== "tools/call" || headers.get("mcp-name") !== params.name || !isPlainHeaderValue(params.name)) return undefined;
    if (!hasOnly(params, ["name", "arguments", "_meta"]) || !isPlainEnvelope(params._meta)) return undefined;
    return { era: "modern", ...call };
  }
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  if (headers.has("mcp-method") || headers.has("mcp-name") || !hasOnly(params, ["name", "arguments"])) return undefined;
  return { era: "legacy", ...call };
}

/** The JSON-RPC answer to a plain call, as the SDK encodes it in that era: the result, or the error thrown. */
export async function answerPlainCall(call: PlainToolCall, run: () => Promise<CallToolResult>, serverInfo: { name: string; version: string }): Promise<Response> {
  let result: CallToolResult;
  try {
    result = await run();
  } catch (thrown) {
    // As the SDK's protocol layer answers a handler's throw: its integer code (else internal), message, data.
    const error = (thrown ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
    const code = Number.isSafeInteger(error.code) ? (error.code as number) : INTERNAL_ERROR;
    return Response.json({ jsonrpc: "2.0", id: call.id, error: { code, message: error.message ?? "Internal error", ...(error.data !== undefined && { data: error.data }) } });
  }
  const encoded = call.era === "modern" ? { ...result, resultType: "complete", _meta: { ...result._meta, [SERVER_INFO_META_KEY]: serverInfo } } : result;
  return Response.json({ result: encoded, jsonrpc: "2.0", id: call.id });
}

/**
 * The 2026-07-28 `_meta` envelope in its plainest form: this version, a client that names itself, and no
 * client capabilities beyond empty ones (a tool call needs none; anything richer is the SDK's to check).
 */
function isPlainEnvelope(meta: unknown): boolean {
  if (!isObject(meta) || !hasOnly(meta, [PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY])) return false;
  const info = meta[CLIENT_INFO_META_KEY];
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  return (
    meta[PROTOCOL_VERSION_META_KEY] === MODERN_VERSION &&
    isObject(info) &&
    hasOnly(info, ["name", "version"]) &&
    typeof info.name === "string" &&
    typeof info.version === "string" &&
    isObject(capabilities) &&
    Object.values(capabilities).every((value) => isObject(value) && Object.keys(value).length === 0)
  );
}

/**
 * A tool name the `Mcp-Name` header carries as it is: printable ASCII, no edge spaces, and not shaped like the
 * header's base64 form (`=?base64?…?=`), which the SDK would decode before comparing.
 */
function isPlainHeaderValue(value: string): boolean {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !value.startsWith("=?");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasOnly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const key in value) if (!keys.includes(key)) return false;
  return true;
}
