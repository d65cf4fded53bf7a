/** `/api/v1/mcp/servers`: the configured external MCP servers with their live state (behind auth). */
import { Hono } from "hono";
import { externalServerStates } from "../sources/external";
import type { AppEnv } from "./app-env";

export const serverRoutes = new Hono<AppEnv>().get("/servers", async (c) => {
  const servers = await externalServerStates(c.get("config"), c.env);
  return c.json({ servers });
});
