/**
 * The document as the tools that consume it see it: `redocly lint` with its recommended rules (each problem
 * left is explained in .redocly.lint-ignore.yaml), and `openapi-typescript` with its default settings, whose
 * types must accept the request bodies the README shows. Runs in Node (both are command-line tools).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../routes";

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
let dir = "";

/** Where the linted document is written: .redocly.lint-ignore.yaml names the problems it keeps by this path. */
const LINTED = join(ROOT, ".openapi", "openapi.json");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "xiaozhi-openapi-"));
  const text = JSON.stringify(openApiDocument(), null, 2);
  writeFileSync(join(dir, "openapi.json"), text);
  mkdirSync(dirname(LINTED), { recursive: true });
  writeFileSync(LINTED, text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a tool of node_modules/.bin; its output is stdout and stderr together (redocly reports on stderr). */
function run(command: string, args: string[], cwd = ROOT): { ok: boolean; output: string } {
  const result = spawnSync(join(BIN, command), args, { cwd, encoding: "utf8", env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" } });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

describe("the OpenAPI document and its tools", () => {
  it("passes redocly lint with the recommended rules (problems left are ignored by name, with a reason)", () => {
    const linted = run("redocly", ["lint", ".openapi/openapi.json", "--config", "redocly.yaml", "--lint-config", "error"]);
    expect(linted.ok, linted.output).toBe(true);
    expect(linted.output).toMatch(/Your API description is valid/);
    expect(linted.output).not.toMatch(/\d+ warnings?|\d+ errors?/);
  }, 60_000);

  it("gives openapi-typescript (default settings) types that accept the README's request bodies", () => {
    expect(run("openapi-typescript", [join(dir, "openapi.json"), "-o", join(dir, "openapi.d.ts")]).ok).toBe(true);
    writeFileSync(
      join(dir, "readme.ts"),
      `import type { components } from "./openapi.d.ts";
type Body<Name extends keyof components["schemas"]> = components["schemas"][Name];
// README "Quick tour" and "Use with xiaozhi-esp32-server", as a gateway would send them.
export const bind: Body<"BindSessionBody"> = { device_id: "aa:bb:cc:dd:ee:ff", client_id: "c1", vision_url: "http://vision.local/explain", token: "vt" };
export const rebind: Body<"BindSessionBody"> = { device_id: "aa:bb:cc:dd:ee:01", client_id: "c2", agent_id: "agent-42" };
export const execute: Body<"ExecuteToolBody"> = { session_id: "demo-1", arguments: {} };
export const role: Body<"ExecuteToolBody"> = { session_id: "demo-1", arguments: { role: "英语老师" } };
export const mint: Body<"MintEndpointBody"> = { provider: "calendar", ttl_seconds: 2592000 };
export const mintNameless: Body<"MintEndpointBody"> = {};
// @ts-expect-error a bind needs the device
export const wrong: Body<"BindSessionBody"> = { client_id: "c1" };
`,
    );
    const checked = run("tsc", ["--noEmit", "--strict", "--allowImportingTsExtensions", "--module", "esnext", "--moduleResolution", "bundler", "--target", "es2022", "readme.ts"], dir);
    expect(checked.output).toBe("");
    expect(checked.ok).toBe(true);
  }, 60_000);
});
