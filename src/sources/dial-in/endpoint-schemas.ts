/**
 * The shapes of the dial-in endpoint's REST surface — minting a provider URL, an agent's providers — declared
 * once for the routes (src/http/agent-routes.ts), the OpenAPI document and the gateway client, which runs
 * outside the Worker and so cannot import the routes themselves.
 */
import { z } from "zod";

export const MintEndpointBody = z.strictObject({
  /** Names the provider's tools `<provider>__<tool>`; without it the provider's serverInfo name is used. */
  provider: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "provider may hold letters, digits, '_' and '-' (32 at most)").optional(),
  ttl_seconds: z.int().min(60).max(365 * 24 * 3600).default(30 * 24 * 3600),
});

export const MintEndpointResponse = z.object({
  success: z.literal(true),
  endpoint: z.object({
    agent_id: z.string(),
    provider: z.string().nullable(),
    url: z.string().describe("ws(s)://…/mcp_endpoint/mcp/?token=…: give it to the tool provider (mcp_pipe's MCP_ENDPOINT), or to xiaozhi-esp32-server as `mcp_endpoint`"),
    consumer_url: z.string().describe("The same URL with /mcp/ replaced by /call/: what xiaozhi-esp32-server dials to use the agent's tools"),
    token: z.string().describe("Lower-case hex: it can never spell `key` or `call`, which xiaozhi-esp32-server refuses"),
    expires_at: z.string(),
    warnings: z.array(z.string()).optional().describe("Present when xiaozhi-esp32-server would refuse the URL (its host contains key or call)"),
  }),
});

/** What the API shows of one provider of an agent. */
export const ProviderStatus = z.object({
  name: z.string(),
  attached: z.boolean(),
  phase: z.string(),
  tool_count: z.number().int(),
  /** False while the provider does not answer pings: its tools are hidden. */
  responsive: z.boolean(),
});
export type ProviderStatus = z.infer<typeof ProviderStatus>;

export const ProviderList = z.object({ agent_id: z.string(), providers: z.array(ProviderStatus) });
