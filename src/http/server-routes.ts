/** `/api/v1/mcp/servers` (issue 4). PLACEHOLDER: filled by the external-server work. */
import { Hono } from "hono";
import type { AppEnv } from "./app-env";

export const serverRoutes = new Hono<AppEnv>();
