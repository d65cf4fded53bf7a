/**
 * The client as a package, as a gateway project would install it: `npm pack` (which builds it), the tarball
 * unpacked into a fresh project's node_modules, then imported by plain Node and type-checked by TypeScript
 * under `moduleResolution` NodeNext and bundler — where passing a wrong input must be a type error.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
let project = "";
let packed: string[] = [];

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "xiaozhi-client-"));
  // The build's own output (tsup, coloured when CI forces colour) shares stdout with npm's JSON, which starts
  // on a line of its own: an ANSI escape also contains "[".
  const env = { ...process.env, PATH: `${BIN}:${process.env.PATH}`, FORCE_COLOR: "0", NO_COLOR: "1" };
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", project], { cwd: ROOT, encoding: "utf8", env });
  const start = out.search(/^\[\s*$/m);
  expect(start, `npm pack printed no JSON:\n${out}`).toBeGreaterThanOrEqual(0);
  const [summary] = JSON.parse(out.slice(start)) as { filename: string; files: { path: string }[] }[];
  packed = summary!.files.map((file) => file.path);
  const modules = join(project, "node_modules");
  mkdirSync(join(modules, "@trpc"), { recursive: true });
  execFileSync("tar", ["-xzf", join(project, summary!.filename), "-C", modules]);
  execFileSync("mv", [join(modules, "package"), join(modules, "xiaozhi-mcp-service")]);
  // The client's own dependencies, as npm would install them next to it.
  for (const dependency of ["zod", "@trpc/client", "@trpc/server"]) symlinkSync(join(ROOT, "node_modules", dependency), join(modules, dependency));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "gateway", type: "module", private: true }));
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** A gateway's code: correct calls, and wrong ones that must not compile. */
const GATEWAY = `
import { createClient, GatewayClient, RolloutGateway, ServiceError, type ToolResult } from "xiaozhi-mcp-service/client";

const mcp = createClient("http://127.0.0.1:8787", "dev-token");
export async function turn(): Promise<ToolResult> {
  await mcp.bindSession.mutate({ session_id: "s1", device_id: "aa:bb:cc:dd:ee:ff", client_id: "c1" });
  const { tools } = await mcp.getTools.query({ session_id: "s1" });
  const first: string = tools[0]?.name ?? "local_exit";
  return mcp.executeTool.mutate({ session_id: "s1", tool_name: first, arguments: { say_goodbye: "再见" } });
}
// @ts-expect-error a session id is required
void mcp.getTools.query({});
// @ts-expect-error arguments are an object, not a string
void mcp.executeTool.mutate({ session_id: "s1", tool_name: "local_exit", arguments: "bye" });
// @ts-expect-error no such procedure
void mcp.dropAllSessions.mutate({});

const service = new GatewayClient({ baseUrl: "https://mcp.example.com", token: "t" });
export const gateway = new RolloutGateway(service, { use_service: true, traffic_split: 10 });
export const isError = (error: unknown) => error instanceof ServiceError && error.isOutage;
// @ts-expect-error the rollout share is a number
export const wrong = new RolloutGateway(service, { use_service: true, traffic_split: "10" });
`;

function typecheck(moduleResolution: "NodeNext" | "Bundler"): string {
  const module = moduleResolution === "NodeNext" ? "NodeNext" : "ESNext";
  try {
    execFileSync(join(BIN, "tsc"), ["--noEmit", "--strict", "--skipLibCheck", "false", "--target", "es2022", "--module", module, "--moduleResolution", moduleResolution, "--types", "node", "--typeRoots", join(ROOT, "node_modules", "@types"), "gateway.ts"], {
      cwd: project,
      encoding: "utf8",
    });
    return "";
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

describe("the client package", () => {
  it("holds compiled JavaScript and one declaration file, not the sources", () => {
    expect(packed).toEqual(expect.arrayContaining(["dist/client/index.js", "dist/client/index.d.ts", "package.json"]));
    expect(packed.filter((file) => file.startsWith("src/") || file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(readdirSync(join(project, "node_modules", "xiaozhi-mcp-service", "dist", "client"))).toContain("index.js");
  });

  it("is importable from plain Node", () => {
    const script = 'import { createClient, GatewayClient, ServiceError, bucketOf } from "xiaozhi-mcp-service/client"; console.log([typeof createClient, typeof GatewayClient, typeof ServiceError, bucketOf("s1")].join(" "));';
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: project, encoding: "utf8" });
    expect(out.trim()).toMatch(/^function function function \d+$/);
  });

  it.each(["NodeNext", "Bundler"] as const)("type-checks a gateway under moduleResolution %s, wrong inputs being type errors", (moduleResolution) => {
    writeFileSync(join(project, "gateway.ts"), GATEWAY);
    expect(typecheck(moduleResolution)).toBe("");
    // The expect-error lines prove the errors exist: without them the same file must fail.
    writeFileSync(join(project, "gateway.ts"), GATEWAY.replaceAll("// @ts-expect-error", "//"));
    expect(typecheck(moduleResolution)).toMatch(/error TS/);
  }, 60_000);
});
