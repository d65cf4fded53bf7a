/**
 * The device as a tool source: the tools of the session's ESP32 (through {@link PeerClient}), named by the
 * one naming module and routed through the stored name → tool table, never by position. Names are computed
 * over the device's last complete list, also while its relay is away, so a reconnect keeps every name and a
 * call meanwhile fails with 503 rather than 404.
 */
import { fail, ok, type Result } from "../../core/errors";
import type { ToolDescriptor, ToolResult } from "../../core/schemas";
import type { StoredValue } from "../../core/stored-value";
import type { NamingOptions, StoredNames } from "../../tools/naming";
import type { PeerTool } from "../../tools/peer/jsonrpc";
import type { PeerClient } from "../../tools/peer/peer-client";
import { describePeerTool, namePeerTools, type PeerNaming } from "../../tools/peer/peer-names";
import type { ToolArgs, Source } from "../../tools/tool-source";
import { deviceToolResult } from "./device-protocol";

export class DeviceTools implements Source {
  readonly kind = "device" as const;
  /** The naming of the last tool list seen: stored lists are immutable, so identity is the cache key. */
  #naming: { tools: readonly PeerTool[]; naming: PeerNaming; descriptors: ToolDescriptor[] } | undefined;

  constructor(
    private readonly client: PeerClient,
    private readonly names: StoredValue<StoredNames>,
    private readonly options: NamingOptions,
  ) {}

  async list(): Promise<ToolDescriptor[]> {
    // Visible tools are the known ones, or none (while the relay is away or the listing is under way).
    return this.client.tools().length > 0 ? this.#named().descriptors : [];
  }

  claims(name: string): boolean {
    return this.#named().naming.byName.has(name);
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const named = this.#named().naming.byName.get(name);
    if (!named) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    const reply = await this.client.callTool(named.tool.name, args);
    return reply.ok ? ok(deviceToolResult(named.tool.name, reply.value)) : reply;
  }

  /** A different device took the session over: its predecessor's names must not carry over. */
  forget(): void {
    this.client.forgetTools();
    this.names.save({ live: [], retired: [] });
    this.#naming = undefined;
  }

  #named() {
    const tools = this.client.knownTools();
    if (this.#naming?.tools === tools) return this.#naming;
    const naming = namePeerTools(this.names.load(), [{ peer: "", tools }], this.options);
    if (naming.assignment.changed) this.names.save(naming.assignment.names);
    const descriptors = naming.tools.map((named) => describePeerTool(named, "device", this.options));
    this.#naming = { tools, naming, descriptors };
    return this.#naming;
  }
}
