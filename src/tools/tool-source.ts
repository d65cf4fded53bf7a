/**
 * The seam between the catalogue and each kind of tool: local, device and external sources all implement
 * {@link Source}; the catalogue merges them and routes calls without knowing what is behind them.
 */
import type { Result } from "../core/errors";
import type { ToolDescriptor, ToolResult, ToolSource } from "../core/schemas";

export type ToolArgs = Record<string, ToolResult["result"]>;

export interface Source {
  /** Which source it is: the `source` of every tool it lists. */
  readonly kind: ToolSource;
  /** The provider's tools, already named as the LLM sees them, in a stable order. */
  list(): Promise<ToolDescriptor[]>;
  /**
   * Whether the provider knows a name it cannot list right now (a device tool while no relay is attached),
   * so a call fails with the provider's own error (503) instead of `tool_not_found`.
   */
  claims?(name: string): boolean;
  /** Runs one of the provider's tools by its LLM name; arguments are validated by the provider. */
  call(name: string, args: ToolArgs): Promise<Result<ToolResult>>;
}
