/**
 * The merged tool catalogue of one session: device tools (device order), then local, then external tools
 * (config order), then the tools of the agent's dial-in providers (connection order). The same inputs always give the same array, so LLM prompt caches stay warm.
 */
import { fail, type Result } from "../core/errors";
import type { ToolDescriptor, ToolResult } from "../core/schemas";
import type { ToolArgs, Source } from "./tool-source";

/** Allow/deny over LLM names, as configurations state it. */
export interface NameFilter {
  allow?: readonly string[] | undefined;
  deny: readonly string[];
}

/** Every list that narrows the catalogue, as one test; undefined when nothing narrows it. */
function allowedNames(enabledTools: readonly string[], filter: NameFilter): ((name: string) => boolean) | undefined {
  const enabled = enabledTools.length > 0 ? new Set(enabledTools) : undefined;
  const allow = filter.allow ? new Set(filter.allow) : undefined;
  const deny = filter.deny.length > 0 ? new Set(filter.deny) : undefined;
  if (!enabled && !allow && !deny) return undefined;
  return (name) => (!enabled || enabled.has(name)) && (!allow || allow.has(name)) && !deny?.has(name);
}

/** A configuration's allow/deny as one test over names (for lists built outside a catalogue: 接入点 consumers). */
export function nameFilterTest(filter: NameFilter): (name: string) => boolean {
  return allowedNames([], filter) ?? (() => true);
}

const SOURCE_ORDER = ["device", "local", "external", "provider"] as const;
/**
 * Who keeps a name two sources both offer: configured sources first. A device names its own tools (no
 * prefix), so without this a device could shadow `local_exit` or an external tool and run its own instead.
 */
const CLAIM_ORDER = ["local", "external", "provider", "device"] as const;

export class Catalogue {
  private constructor(
    readonly tools: readonly ToolDescriptor[],
    readonly owners: ReadonlyMap<string, Source>,
    private readonly providers: readonly Source[],
    private readonly allowed: ((name: string) => boolean) | undefined,
  ) {}

  /**
   * @param enabledTools allow-list of LLM names (a session's); empty means every tool.
   * @param filter allow/deny over LLM names (the service's or an agent's configuration).
   */
  static async build(providers: readonly Source[], enabledTools: readonly string[] = [], filter: NameFilter = { deny: [] }): Promise<Catalogue> {
    const allowed = allowedNames(enabledTools, filter);
    const ordered = [...providers].sort((a, b) => SOURCE_ORDER.indexOf(a.kind) - SOURCE_ORDER.indexOf(b.kind));
    const lists = await Promise.all(ordered.map((provider) => provider.list()));
    const owners = new Map<string, Source>();
    const claimants = ordered.map((provider, index) => ({ provider, list: lists[index] ?? [] }));
    claimants.sort((a, b) => CLAIM_ORDER.indexOf(a.provider.kind) - CLAIM_ORDER.indexOf(b.provider.kind));
    for (const { provider, list } of claimants) {
      for (const tool of list) {
        if (owners.has(tool.name) || (allowed && !allowed(tool.name))) continue;
        owners.set(tool.name, provider);
      }
    }
    const tools: ToolDescriptor[] = [];
    const listed = new Set<string>();
    ordered.forEach((provider, index) => {
      for (const tool of lists[index] ?? []) {
        if (owners.get(tool.name) !== provider || listed.has(tool.name)) continue;
        listed.add(tool.name);
        tools.push(tool);
      }
    });
    return new Catalogue(tools, owners, ordered, allowed);
  }

  count(source: ToolDescriptor["source"]): number {
    return this.tools.filter((tool) => tool.source === source).length;
  }

  /** The source that would run `name`, if any. */
  sourceOf(name: string): ToolDescriptor["source"] | undefined {
    return (this.owners.get(name) ?? this.#claimant(name))?.kind;
  }

  async call(name: string, args: ToolArgs): Promise<Result<ToolResult>> {
    const owner = this.owners.get(name) ?? this.#claimant(name);
    if (!owner) return fail("tool_not_found", `Tool '${name}' is not available in this session`);
    return owner.call(name, args);
  }

  #claimant(name: string): Source | undefined {
    if (this.allowed && !this.allowed(name)) return undefined;
    return this.providers.find((provider) => provider.claims?.(name));
  }
}
