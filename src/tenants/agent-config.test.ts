import { describe, expect, it } from "vitest";
import { loadConfig } from "../core/config";
import { parseServers } from "../sources/external/server-config";
import { checkAgentConfig, maskAgentConfig, mergeAgentConfig } from "./agent-config";

const service = (() => {
  const loaded = loadConfig({
    bundled: {},
    override: JSON.stringify({ mcpServers: { calc: { url: "https://calc.example.com/mcp" }, home: { url: "https://ha.example.com/mcp" } }, local_tools: { play_music: { enabled: false } } }),
    vars: {},
  });
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
})();

describe("agent configs", () => {
  it("merge over the service config: servers by name (null removes), local tools deep, the agent's filter", () => {
    const merged = mergeAgentConfig(
      service,
      {
        mcpServers: { calc: { url: "https://my-calc.example.com/mcp" }, home: null, weather: { url: "https://w.example.com/mcp", headers: { Authorization: "Bearer ${W}" } } },
        local_tools: { change_role: { roles: [{ name: "tutor", prompt: "p" }] } },
        tools: { deny: ["local_exit"] },
      },
      { W: "w-token" },
    );
    if (!merged.ok) throw new Error(merged.error.message);
    const servers = parseServers(merged.value).servers;
    expect(servers.map((server) => [server.name, server.url])).toEqual([
      ["calc", "https://my-calc.example.com/mcp"],
      ["weather", "https://w.example.com/mcp"],
    ]);
    expect(servers[1]?.headers).toEqual({ Authorization: "Bearer w-token" });
    expect(merged.value.local_tools.play_music.enabled).toBe(false); // the service's, kept
    expect(merged.value.local_tools.change_role.roles).toEqual([{ name: "tutor", prompt: "p" }]);
    expect(merged.value.tools).toEqual({ deny: ["local_exit"] });
    // The service config itself is untouched.
    expect(parseServers(service).servers.map((server) => server.name)).toEqual(["calc", "home"]);
  });

  it("are checked whole: a reference to a missing secret, a stdio entry, an unknown key", () => {
    expect(checkAgentConfig({ mcpServers: { x: { url: "https://x.example.com/mcp", headers: { A: "${NOPE}" } } } }, {}).ok).toBe(false);
    expect(checkAgentConfig({ mcpServers: { x: { command: "npx" } } }, {}).ok).toBe(false);
    expect(checkAgentConfig({ mcpServers: { x: { url: "https://x.example.com/mcp", extra: 1 } } }, {}).ok).toBe(false);
    expect(checkAgentConfig({ mcpServers: { x: { url: "https://x.example.com/mcp", enabled: false } } }, {}).ok).toBe(false);
    const good = checkAgentConfig({ mcpServers: { x: { url: "https://x.example.com/mcp", headers: { A: "${OK}" } }, calc: null } }, { OK: "1" });
    expect(good).toEqual({ ok: true, value: { mcpServers: { x: { url: "https://x.example.com/mcp", headers: { A: "${OK}" } }, calc: null } } });
  });

  it("are shown masked, references kept", () => {
    expect(
      maskAgentConfig({ mcpServers: { x: { url: "https://u:p@x.example.com/mcp?k=v", headers: { A: "secret", B: "${REF}", C: "${REF:default}" } }, y: null } }),
    ).toEqual({ mcpServers: { x: { url: "https://x.example.com/mcp?k=***", headers: { A: "***", B: "${REF}", C: "${REF:default}" } }, y: null } });
  });
});
