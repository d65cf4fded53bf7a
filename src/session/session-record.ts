/** The bound context of one session, as persisted by its Durable Object. */
import { z } from "zod";

export const SessionRecord = z.object({
  session_id: z.string(),
  device_id: z.string(),
  client_id: z.string(),
  vision_url: z.string(),
  token: z.string(),
  enabled_tools: z.array(z.string()),
  /** Records written before agents existed have none. */
  agent_id: z.string().default(""),
  created_at: z.string(),
  updated_at: z.string(),
  /** Epoch ms of the last API activity; the idle alarm compares against it. */
  last_active_ms: z.number(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;

/** Synchronous storage port, so the session logic runs against a Map in unit tests. */
export interface SessionStore {
  load(): SessionRecord | undefined;
  save(record: SessionRecord): void;
}
