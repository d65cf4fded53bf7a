/**
 * One Durable Object per session, named by `session_id`. It persists the bound context, owns the session's
 * tool catalogue and expires the session after `sessions.idle_ttl_seconds` without activity.
 *
 * Every public method returns a {@link Result}: errors lose their fields across Durable Object RPC.
 */
import { DurableObject } from "cloudflare:workers";
import type { ServiceConfig } from "../core/config";
import { fail, ok, type Result } from "../core/errors";
import type { BindSessionInput, ExecuteToolInput, SessionRef, SessionView, ToolList, ToolResult } from "../core/schemas";
import { configFromEnv } from "../env-config";
import { log } from "../observability/log";
import { externalTools } from "../tools/external";
import { LocalTools } from "../tools/local/local-tools";
import type { ToolProvider } from "../tools/tool-provider";
import { SessionRecord, type SessionStore } from "./session-record";
import { SessionService } from "./session-service";

const RECORD_KEY = "session";

/** The RPC surface of a session object, as the Worker calls it. */
export interface SessionRpc {
  bind(input: BindSessionInput): Promise<Result<SessionView>>;
  view(ref: SessionRef): Promise<Result<SessionView>>;
  tools(ref: SessionRef): Promise<Result<ToolList>>;
  execute(input: ExecuteToolInput): Promise<Result<ToolResult>>;
  unbind(ref: SessionRef): Promise<Result<{ session_id: string; deleted: true }>>;
}

export class SessionObject extends DurableObject<Env> implements SessionRpc {
  readonly #config: Result<ServiceConfig>;
  readonly #service: SessionService | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = configFromEnv(env);
    if (!this.#config.ok) return;
    const config = this.#config.value;
    const local = new LocalTools({ config: config.local_tools, timezone: config.timezone });
    const external = externalTools(config, env);
    this.#service = new SessionService({
      store: kvStore(ctx.storage.kv),
      idleTtlMs: config.sessions.idle_ttl_seconds * 1000,
      now: Date.now,
      providers: (): ToolProvider[] => [local, external],
      relayStatus: () => ({ attached: false, phase: "detached", server_info: null, tool_count: 0, pending_calls: 0 }),
    });
  }

  async bind(input: BindSessionInput): Promise<Result<SessionView>> {
    if (!this.#service) return this.#configError();
    const view = await this.#service.bind(input);
    if (view.ok) await this.#scheduleExpiry();
    return view;
  }

  async view(_ref: SessionRef): Promise<Result<SessionView>> {
    return this.#service ? this.#service.view() : this.#configError();
  }

  async tools(_ref: SessionRef): Promise<Result<ToolList>> {
    return this.#service ? this.#service.tools() : this.#configError();
  }

  async execute(input: ExecuteToolInput): Promise<Result<ToolResult>> {
    return this.#service ? this.#service.execute(input) : this.#configError();
  }

  async unbind(ref: SessionRef): Promise<Result<{ session_id: string; deleted: true }>> {
    if (!this.#service) return this.#configError();
    const record = this.#service.record();
    if (!record.ok) return record;
    await this.#destroy("unbound");
    return ok({ session_id: ref.session_id, deleted: true });
  }

  /** Idle expiry. Alarms are at-least-once, so this only acts on what storage says now. */
  override async alarm(): Promise<void> {
    const record = this.#service?.record();
    if (!this.#service || !record?.ok) return;
    const expiresAt = this.#service.expiresAtMs(record.value);
    if (Date.now() < expiresAt) {
      await this.ctx.storage.setAlarm(expiresAt);
      return;
    }
    log("info", "session.expired", { session_id: record.value.session_id });
    await this.#destroy("expired");
  }

  async #scheduleExpiry(): Promise<void> {
    const record = this.#service?.record();
    if (!this.#service || !record?.ok) return;
    // The alarm fires at the first possible expiry and re-arms itself from last activity.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.#service.expiresAtMs(record.value));
  }

  async #destroy(reason: string): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) socket.close(4000, `session ${reason}`);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  #configError<T>(): Result<T> {
    return this.#config.ok ? fail("internal", "Session not initialised") : this.#config;
  }
}

function kvStore(kv: SyncKvStorage): SessionStore {
  return {
    load: () => {
      const raw = kv.get(RECORD_KEY);
      const parsed = SessionRecord.safeParse(raw);
      return parsed.success ? parsed.data : undefined;
    },
    save: (record) => kv.put(RECORD_KEY, record),
  };
}
