/**
 * What a session does, independent of Durable Objects: bind, view, list and execute tools. The Durable
 * Object supplies the storage, the clock and the tool providers; this class owns the rules.
 */
import { fail, ok, type ErrorCode, type Result } from "../core/errors";
import type { BindSessionInput, ExecuteToolInput, RelayStatus, SessionView, ToolList, ToolResult, ToolSource } from "../core/schemas";
import { Catalogue, type NameFilter } from "../tools/catalogue";
import type { ToolCallEvent, ToolExecution } from "../observability/tool-call";
import type { Source } from "../tools/tool-source";
import type { SessionRecord, SessionStore } from "./session-record";

/**
 * How long a catalogue built for one call serves the next ones. Every call resolves its tool's name against
 * the whole catalogue (a device tool must lose to a provider's of the same name); rebuilding it per call would
 * ask the agent object for its providers' tools and revalidate every upstream's list on every call. Changes
 * that are pushed (device attach and detach, providers) drop it at once; `tools()` always builds afresh and
 * replaces it; what is not pushed (an upstream's list) is at most this much older on the call path.
 */
export const CALL_CATALOGUE_TTL_MS = 5_000;

export interface SessionDeps {
  store: SessionStore;
  idleTtlMs: number;
  now: () => number;
  /** The sources a bound session uses, and the filter of names its configuration (the service's or its agent's) sets. */
  providers: (record: SessionRecord) => Promise<{ sources: readonly Source[]; filter: NameFilter }>;
  relayStatus: () => RelayStatus;
}

/**
 * Activity is stored at most this often: `last_active_ms` is rewritten only once it is older than the
 * granularity, so a busy session does not write storage on every call. Expiry adds the granularity back, so a
 * session never expires earlier than its TTL after its last activity (at most one granularity later).
 */
export function touchGranularityMs(idleTtlMs: number): number {
  return Math.min(60_000, Math.floor(idleTtlMs / 30));
}

export class SessionService {
  readonly #granularityMs: number;
  /** The last catalogue built, for calls; `binding` is the record's `updated_at` it was built for. */
  #cached: { catalogue: Catalogue; built_at: number; binding: string } | undefined;
  /** Bumped by every pushed change, so a catalogue being built across one is not kept. */
  #generation = 0;

  constructor(private readonly deps: SessionDeps) {
    this.#granularityMs = touchGranularityMs(deps.idleTtlMs);
  }

  /** Binding again updates the context: devices reconnect for every conversation. */
  async bind(input: BindSessionInput): Promise<Result<SessionView>> {
    const now = this.deps.now();
    const stamp = new Date(now).toISOString();
    const previous = this.deps.store.load();
    // A rebind of the same device without vision fields keeps the bound ones; another device starts afresh.
    const kept = previous?.device_id === input.device_id ? previous : undefined;
    const record: SessionRecord = {
      session_id: input.session_id,
      device_id: input.device_id,
      client_id: input.client_id,
      vision_url: input.vision_url ?? kept?.vision_url ?? "",
      token: input.token ?? kept?.token ?? "",
      enabled_tools: input.enabled_tools,
      agent_id: input.agent_id,
      created_at: previous?.created_at ?? stamp,
      updated_at: stamp,
      last_active_ms: now,
    };
    this.deps.store.save(record);
    return ok(await this.#view(record));
  }

  record(): Result<SessionRecord> {
    const record = this.deps.store.load();
    return record ? ok(record) : fail("session_not_found", "Session is not bound");
  }

  async view(): Promise<Result<SessionView>> {
    const record = this.#touch();
    return record.ok ? ok(await this.#view(record.value)) : record;
  }

  async tools(): Promise<Result<ToolList>> {
    const record = this.#touch();
    if (!record.ok) return record;
    const catalogue = await this.#catalogue(record.value);
    return ok({ tools: [...catalogue.tools] });
  }

  async execute(input: ExecuteToolInput, requestId = ""): Promise<ToolExecution> {
    const record = this.#touch();
    if (!record.ok) return record;
    if (input.device_id !== undefined && input.device_id !== record.value.device_id) {
      return fail("session_conflict", "device_id does not match the device bound to this session");
    }
    const started = this.deps.now();
    const catalogue = await this.#callCatalogue(record.value);
    // The call's log line and metrics are the caller's (session-directory.ts): it batches them per isolate.
    return runTool(catalogue, { session_id: record.value.session_id, request_id: requestId, started, now: this.deps.now }, input);
  }

  /** A pushed change (device attached or gone, an agent's providers): the next call builds a fresh catalogue. */
  catalogueChanged(): void {
    this.#cached = undefined;
    this.#generation += 1;
  }

  /** When the session may be deleted for idleness. */
  expiresAtMs(record: SessionRecord): number {
    return record.last_active_ms + this.deps.idleTtlMs + this.#granularityMs;
  }

  /** Marks activity now; returns the session, or session_not_found. */
  touch(): Result<SessionRecord> {
    return this.#touch();
  }

  #touch(): Result<SessionRecord> {
    const record = this.deps.store.load();
    if (!record) return fail("session_not_found", "Session is not bound");
    const now = this.deps.now();
    if (now - record.last_active_ms < this.#granularityMs) return ok(record);
    const touched = { ...record, last_active_ms: now };
    this.deps.store.save(touched);
    return ok(touched);
  }

  async #catalogue(record: SessionRecord): Promise<Catalogue> {
    const generation = this.#generation;
    const { sources, filter } = await this.deps.providers(record);
    const catalogue = await Catalogue.build(sources, record.enabled_tools, filter);
    // Kept for calls unless a change was pushed while it was being built.
    if (generation === this.#generation) this.#cached = { catalogue, built_at: this.deps.now(), binding: record.updated_at };
    return catalogue;
  }

  #callCatalogue(record: SessionRecord): Promise<Catalogue> {
    const cached = this.#cached;
    if (cached && cached.binding === record.updated_at && this.deps.now() - cached.built_at < CALL_CATALOGUE_TTL_MS) return Promise.resolve(cached.catalogue);
    return this.#catalogue(record);
  }

  async #view(record: SessionRecord): Promise<SessionView> {
    const catalogue = await this.#catalogue(record);
    return {
      session_id: record.session_id,
      device_id: record.device_id,
      client_id: record.client_id,
      vision_url: record.vision_url,
      has_token: record.token !== "",
      enabled_tools: record.enabled_tools,
      agent_id: record.agent_id,
      created_at: record.created_at,
      updated_at: record.updated_at,
      expires_at: new Date(this.expiresAtMs(record)).toISOString(),
      tools: {
        device: catalogue.count("device"),
        local: catalogue.count("local"),
        external: catalogue.count("external"),
        provider: catalogue.count("provider"),
      },
      relay: this.deps.relayStatus(),
    };
  }
}

/**
 * Runs one tool through a catalogue and describes the call for observability (metrics and the `tool.call`
 * line): the session's way, and the shared endpoint's, which has a catalogue but no session.
 */
export async function runTool(
  catalogue: Catalogue,
  context: { session_id: string; request_id: string; started: number; now: () => number },
  input: Pick<ExecuteToolInput, "tool_name" | "arguments">,
): Promise<ToolExecution> {
  const result = await catalogue.call(input.tool_name, input.arguments);
  const call: ToolCallEvent = {
    request_id: context.request_id,
    session_id: context.session_id,
    tool_name: input.tool_name,
    source: catalogue.sourceOf(input.tool_name) ?? "none",
    status: result.ok ? (result.value.success ? "success" : "tool_error") : result.error.code,
    duration_ms: context.now() - context.started,
  };
  return { ...result, call };
}

export type { ToolCallEvent, ToolExecution };
