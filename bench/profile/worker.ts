/**
 * Bench-only entry for the `breakdown` suite: the service's own code (src/, unchanged) behind routes and modes
 * that skip parts of the request path, so the time of a full REST call can be split into its layers. Never
 * deployed; the bench generates its wrangler config from wrangler.toml (same bindings, migrations and runtime)
 * and bundles it like the service. Not type-checked by the project's tsconfig (bench/ is outside it).
 *
 * Modes, per request:
 * - Worker side, header `x-bench-mode`: `full` (as the service), `quiet` (console output dropped: no per-request
 *   log line), `lean` (quiet, and no METRICS / TOOL_CALLS bindings: no metrics RPC, no Analytics Engine point).
 * - Durable Object side, by session-id prefix (the object cannot see the header): `quiet-…` and `lean-…`
 *   sessions behave as above inside the session object (its `tool.call` log line and tool-call metrics).
 * The mode travels with AsyncLocalStorage, so concurrent requests of different modes do not mix.
 *
 * Routes besides the service's own:
 * - `POST /direct/execute` `{session_id, tool_name, arguments}`: JSON parse -> the session object's `execute()`
 *   RPC -> JSON reply. No Hono, auth, zod, log or metrics in the Worker: the Durable Object's share.
 * - `POST /direct/put` `{session_id}`: the same Durable Object class, a bench-only method doing one KV put (what
 *   the baseline object does): the cost of the service's isolate and class without its logic.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import service, { SessionObject as ServiceSessionObject } from "../../src/index";

// Every other Durable Object class of the service (the generated config keeps all its bindings); the local
// SessionObject below shadows the star export.
export * from "../../src/index";

type Mode = "full" | "quiet" | "lean";
const mode = new AsyncLocalStorage<Mode>();
const current = (): Mode => mode.getStore() ?? "full";

for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    if (current() === "full") original(...args);
  };
}

/** The env as the service code sees it: without the metrics and analytics bindings in `lean` mode. */
function scopedEnv<E extends object>(env: E): E {
  return new Proxy(env, {
    get(target, key, receiver) {
      if ((key === "METRICS" || key === "TOOL_CALLS") && current() === "lean") return undefined;
      return Reflect.get(target, key, receiver);
    },
  });
}

const modeOfSession = (sessionId: string): Mode => (sessionId.startsWith("lean-") ? "lean" : sessionId.startsWith("quiet-") ? "quiet" : "full");

interface ExecuteInput {
  session_id: string;
  tool_name: string;
  arguments: Record<string, unknown>;
}

export class SessionObject extends ServiceSessionObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, scopedEnv(env));
  }

  override execute(input: ExecuteInput): ReturnType<ServiceSessionObject["execute"]> {
    return mode.run(modeOfSession(input.session_id), () => super.execute(input as never));
  }

  async benchPut(body: unknown): Promise<{ ok: true; at: number }> {
    const at = Date.now();
    this.ctx.storage.kv.put("bench-record", { body, last_active_ms: at });
    return { ok: true, at };
  }
}

type BenchStub = {
  execute(input: ExecuteInput): Promise<unknown>;
  benchPut(body: unknown): Promise<unknown>;
};

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/direct/execute" || url.pathname === "/direct/put") {
      const body = (await request.json()) as Partial<ExecuteInput>;
      const sessionId = String(body.session_id ?? "");
      const stub = env.SESSIONS.getByName(sessionId) as unknown as BenchStub;
      const result =
        url.pathname === "/direct/put"
          ? await stub.benchPut(body)
          : await stub.execute({ session_id: sessionId, tool_name: body.tool_name ?? "", arguments: body.arguments ?? {} });
      return Response.json(result);
    }
    const requested = request.headers.get("x-bench-mode");
    const run: Mode = requested === "quiet" || requested === "lean" ? requested : "full";
    return mode.run(run, () => service.fetch(request, scopedEnv(env), ctx));
  },
} satisfies ExportedHandler<Env>;
