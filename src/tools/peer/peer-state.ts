/** What is persisted about one connected peer, so a Durable Object evicted mid-session resumes exactly. */
import { z } from "zod";
import { RelayPhase } from "../../core/schemas";
import { PeerTool } from "./jsonrpc";

export const Handshake = z.object({
  kind: z.enum(["initialize", "list"]),
  id: z.int(),
  cursor: z.string().optional(),
  pages: z.int(),
  deadline_ms: z.number(),
});

export const PeerState = z.object({
  /** Bumped whenever a connection attaches; events of older connections are ignored. */
  generation: z.int(),
  attached: z.boolean(),
  phase: RelayPhase,
  /**
   * JSON-RPC ids below this may have been used: after an eviction, allocation resumes here. Ids are reserved in
   * blocks (peer-client.ts), so a call does not have to write storage to get one; 1 is initialize's.
   */
  next_id: z.int().min(2),
  server_info: z.json().nullable(),
  handshake: Handshake.nullable(),
  /** Tools received so far by the listing in progress. */
  partial: z.array(PeerTool),
  /** The last complete catalogue, in device order. */
  tools: z.array(PeerTool),
  /** Whether `tools` is offered to the LLM: false from a disconnect until the next complete listing. */
  visible: z.boolean(),
});
export type PeerState = z.infer<typeof PeerState>;

export function initialPeerState(): PeerState {
  return {
    generation: 0,
    attached: false,
    phase: "detached",
    next_id: 2,
    server_info: null,
    handshake: null,
    partial: [],
    tools: [],
    visible: false,
  };
}
