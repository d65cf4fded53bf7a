/** Operator routes (issue 6): `/readyz`, `/api/v1/openapi.json`. PLACEHOLDER: filled by the production work. */
import { Hono } from "hono";
import type { AppEnv } from "./app-env";

export const opsRoutes = new Hono<AppEnv>();
