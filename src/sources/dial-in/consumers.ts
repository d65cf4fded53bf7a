/**
 * An agent's consumers: xiaozhi-esp32-server's `/call/` connections, each speaking raw JSON-RPC to
 * {@link ConsumerConnection}. They are answered from the agent's providers and, with
 * `xiaozhi_endpoint.expose_external`, from the deployment's external servers — narrowed, like the agent's
 * sessions, by its `tools` allow/deny (its own config's, else the service's). Run by the agent's object.
 */
import type { ServiceConfig } from "../../core/config";
import { fail, ok, type Result } from "../../core/errors";
import type { ObjectHost } from "../../core/host";
import { sendQuietly } from "../../core/websocket";
import { log } from "../../observability/log";
import type { ExternalTools } from "../external/external-tools";
import { nameFilterTest, type NameFilter } from "../../tools/catalogue";
import type { ToolArgs } from "../../tools/tool-source";
import type { AgentRpc } from "./agent-rpc";
import { ConsumerConnection, type CallResult, type ConsumerLimits, type ConsumerTool } from "./consumer-endpoint";

/** Tag of consumer sockets. */
const CONSUMER_TAG = "consumer";

export class Consumers {
  /** Each connection's state (calls in flight), by socket: in memory, like the calls themselves. */
  readonly #connections = new WeakMap<WebSocket, ConsumerConnection>();

  constructor(
    private readonly host: ObjectHost,
    private readonly config: Result<ServiceConfig>,
    private readonly providers: Pick<AgentRpc, "tools" | "call">,
    /** The deployment's external servers, when they are exposed to consumers. */
    private readonly external: () => ExternalTools | undefined,
    /** The agent's allow/deny over tool names, read at each list and call (a config change applies at once). */
    private readonly filter: () => NameFilter,
    /** The agent's rate limit on tool calls: the binding and key its sessions' calls count against. */
    private readonly callAllowed: () => Promise<Result<void>> = async () => ok(undefined),
  ) {}

  isConsumer(ws: WebSocket): boolean {
    return this.host.sockets.tags(ws).includes(CONSUMER_TAG);
  }

  accept(agentId: string, server: WebSocket): void {
    this.host.sockets.accept(server, [CONSUMER_TAG]);
    log("info", "consumer.attached", { agent_id: agentId });
  }

  async message(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    let connection = this.#connections.get(ws);
    if (!connection) {
      connection = new ConsumerConnection({ tools: () => this.#tools(), call: (name, args) => this.#call(name, args) }, this.#limits());
      this.#connections.set(ws, connection);
    }
    const answer = await connection.handle(typeof message === "string" ? message : new TextDecoder().decode(message));
    // The consumer may have gone meanwhile: its answer has no one to go to, and nobody else is affected.
    if (answer !== undefined) sendQuietly(ws, answer);
  }

  /** The agent's providers' tools, then (by configuration) the deployment's external servers' tools. */
  async #tools(): Promise<ConsumerTool[]> {
    const allowed = nameFilterTest(this.filter());
    const listed = await this.providers.tools();
    const tools: ConsumerTool[] = listed.ok ? listed.value.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.input_schema })) : [];
    const external = this.external();
    if (external) {
      const taken = new Set(tools.map((tool) => tool.name));
      for (const tool of await external.list()) {
        if (!taken.has(tool.name)) tools.push({ name: tool.name, description: tool.description, inputSchema: tool.input_schema });
      }
    }
    return tools.filter((tool) => allowed(tool.name));
  }

  /** A provider's tool answers with its own result; a JSON-RPC error of the provider is an upstream error. */
  async #call(name: string, args: Record<string, unknown>): Promise<Result<CallResult>> {
    // A name the agent's filter leaves out is not its tool, as in its sessions' catalogues.
    if (!nameFilterTest(this.filter())(name)) return fail("tool_not_found", `Tool '${name}' is not available to this agent`);
    const allowed = await this.callAllowed();
    if (!allowed.ok) return allowed;
    const provided = await this.providers.call(name, args as ToolArgs);
    if (provided.ok) {
      const reply = provided.value;
      if ("error" in reply) return fail("upstream_error", reply.error.message, { provider_code: reply.error.code ?? null });
      const result = reply.result;
      return typeof result === "object" && result !== null && !Array.isArray(result) ? ok(result as CallResult) : fail("upstream_error", "The tool provider returned a malformed result");
    }
    const external = provided.error.code === "tool_not_found" ? this.external() : undefined;
    if (!external) return provided;
    const called = await external.callRaw(name, args as ToolArgs);
    return called.ok ? ok(called.value as CallResult) : called;
  }

  #limits(): ConsumerLimits {
    const config = this.config.ok ? this.config.value : undefined;
    return {
      maxBytes: config?.limits.max_frame_bytes ?? 1024 * 1024,
      maxDepth: config?.limits.max_json_depth ?? 64,
      pageSize: config?.xiaozhi_endpoint.page_size ?? 100,
      maxCallsInFlight: config?.xiaozhi_endpoint.max_calls_in_flight ?? 16,
    };
  }
}
