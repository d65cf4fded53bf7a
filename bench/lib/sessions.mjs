// Shared by suites: session ids (one per load-generator connection) and binding them through REST.
import { expectJson } from "./http.mjs";

/** `count` ids unique to this run, e.g. bench-m1abc-0, bench-m1abc-1 … */
export function sessionIds(ctx, label, count) {
  return Array.from({ length: count }, (_, conn) => `${label}-${ctx.runId}-${conn}`);
}

/** Binds every session with `POST /api/v1/mcp/sessions/<id>/bind`. */
export async function bindSessions(api, sessions, device = { device_id: "bench-device", client_id: "bench" }) {
  for (const session of sessions) {
    expectJson(
      await api.post(`/api/v1/mcp/sessions/${encodeURIComponent(session)}/bind`, device),
      (body) => body.success === true,
      `bind ${session}`,
    );
  }
}
