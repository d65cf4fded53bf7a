// Keep-alive JSON client for the load generator. Default: node:http with a keep-alive Agent (lightest on the
// CPU the load generator shares with wrangler/workerd); `--client fetch` uses Node's undici-based global fetch
// (keep-alive by default) to cross-check that the client does not shape the figures.
import http from "node:http";

/**
 * @typedef {{ status: number, text: string }} HttpReply
 * @typedef {{ post: (path: string, body: unknown) => Promise<HttpReply>, get: (path: string) => Promise<HttpReply>, close: () => void, server?: string }} JsonClient
 *   `server`: name of the bench server at `baseUrl` (bench/lib/context.mjs), which targets built on the client
 *   report as theirs (own CPU, object-request counters)
 */

/**
 * @param {object} options
 * @param {string} options.baseUrl e.g. http://127.0.0.1:8791
 * @param {Record<string, string>} [options.headers] sent with every request
 * @param {number} [options.maxSockets] at least the highest concurrency used with this client
 * @param {"http" | "fetch"} [options.kind]
 * @param {number} [options.timeoutMs] per request
 * @param {string} [options.server] name of the bench server at `baseUrl`
 * @returns {JsonClient}
 */
export function createJsonClient({ baseUrl, headers = {}, maxSockets = 64, kind = "http", timeoutMs = 15_000, server }) {
  const client = kind === "fetch" ? fetchClient(baseUrl, headers, timeoutMs) : nodeHttpClient(baseUrl, headers, maxSockets, timeoutMs);
  return server === undefined ? client : { ...client, server };
}

function nodeHttpClient(baseUrl, headers, maxSockets, timeoutMs) {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const send = (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const request = http.request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          timeout: timeoutMs,
          headers: payload
            ? { ...headers, "content-type": "application/json", "content-length": payload.length }
            : headers,
        },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error(`${method} ${path}: no reply within ${timeoutMs} ms`)));
      request.on("error", reject);
      request.end(payload);
    });
  return {
    post: (path, body) => send("POST", path, body),
    get: (path) => send("GET", path, undefined),
    close: () => agent.destroy(),
  };
}

function fetchClient(baseUrl, headers, timeoutMs) {
  const send = async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, text: await response.text() };
  };
  return {
    post: (path, body) => send("POST", path, body),
    get: (path) => send("GET", path, undefined),
    close: () => {},
  };
}

/** Parses a reply and checks it with `accept`; throws a short, clear error otherwise. */
export function expectJson(reply, accept, what) {
  let body;
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw new Error(`${what}: HTTP ${reply.status}, body is not JSON: ${reply.text.slice(0, 200)}`);
  }
  if (reply.status !== 200 || !accept(body)) throw new Error(`${what}: HTTP ${reply.status} ${reply.text.slice(0, 300)}`);
  return body;
}
