/**
 * The layout as the README's "Layout" section states it, checked: imports only run down the layers, Durable
 * Object classes live in durable-objects/ as thin shells, no source file grows past about 450 lines, the core
 * and the sources know nothing of Durable Objects, and test/ mirrors the names of src/ and durable-objects/.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

/** Layers, lowest first: a module may import its own layer and those below, never one above. */
const LAYERS: Record<string, number> = {
  "src/core": 0,
  "src/version.ts": 0,
  "src/observability": 1,
  "src/tools": 2,
  "src/mcp": 2,
  "src/sources": 3,
  "src/tenants": 3,
  "src/session": 4,
  "src/trpc": 5,
  "src/client": 6,
  "src/http": 6,
  "src/index.ts": 7,
  "durable-objects": 7,
};

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? files(path) : [path];
  });
}

const sources = [...files("src"), ...files("durable-objects")].filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
const modules = sources.filter((file) => !file.endsWith(".test.ts"));

function layerOf(file: string): number | undefined {
  const key = Object.keys(LAYERS).find((prefix) => file === prefix || file.startsWith(`${prefix}/`));
  return key === undefined ? undefined : LAYERS[key];
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)].map((match) => normalize(join(dirname(file), match[1]!)));
}

const lines = (file: string) => readFileSync(join(ROOT, file), "utf8").split("\n").length;

describe("layout", () => {
  it("imports run down the layers only", () => {
    const upward = modules.flatMap((file) =>
      importsOf(file)
        .filter((target) => (layerOf(target) ?? -1) > (layerOf(file) ?? Number.POSITIVE_INFINITY))
        .filter((target) => !(file === "src/index.ts" && target.startsWith("durable-objects")))
        .map((target) => `${file} → ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it("keeps every Durable Object class in durable-objects/, each a thin shell", () => {
    const classes = modules.filter((file) => /extends DurableObject\b/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(classes.length).toBeGreaterThanOrEqual(4);
    for (const file of classes) {
      expect(file.startsWith("durable-objects/"), file).toBe(true);
      expect(lines(file), file).toBeLessThan(250);
    }
  });

  it("keeps the core, tools, sources and session free of Durable Object APIs (they get ports)", () => {
    const platform = /cloudflare:workers|DurableObjectState|ctx\.storage|acceptWebSocket|getWebSockets/;
    const leaking = modules.filter((file) => /^src\/(core|tools|sources|session|mcp)\//.test(file) && platform.test(readFileSync(join(ROOT, file), "utf8")));
    expect(leaking).toEqual([]);
  });

  it("has no source file over about 450 lines: modules, tests, fixtures, bench and scripts alike", () => {
    const everywhere = [...sources, ...["test", "bench", "scripts"].flatMap((dir) => files(dir))].filter((file) => /\.(ts|mjs)$/.test(file) && !file.endsWith(".d.ts"));
    const long = everywhere.filter((file) => lines(file) > 460).map((file) => `${file}: ${lines(file)}`);
    expect(long).toEqual([]);
  });

  it("mirrors src/ and durable-objects/ in test/", () => {
    const known = new Set([...files("src"), ...files("durable-objects")].map((file) => dirname(relative("src", file.replace(/^durable-objects/, "src/durable-objects")))));
    const infrastructure = new Set(["support", "fixtures", "e2e"]);
    const testDirs = new Set(files("test").map((file) => dirname(relative("test", file))).filter((dir) => dir !== "."));
    const unmatched = [...testDirs].filter((dir) => !infrastructure.has(dir.split("/")[0]!) && !known.has(dir));
    expect(unmatched).toEqual([]);
  });
});
