import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignNames, EMPTY_NAMES, hash8, MAX_NAME_LENGTH, safeName, type NameRequest, type StoredNames } from "./naming";

const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
/** xiaozhi-esp32-server's `sanitize_tool_name`: what it would change in a name. */
const XIAOZHI_UNSAFE = /[^a-zA-Z0-9_\-\u4e00-\u9fff]/;

/** How the device and provider sources ask for names: the safe form, exact when nothing was replaced. */
const request = (raw: string, prefix = ""): NameRequest => {
  const safe = safeName(raw);
  return { key: raw, candidates: [prefix === "" ? safe.name : safeName(`${prefix}__${safe.name}`).name], distance: safe.changes };
};

const named = (previous: StoredNames | undefined, raws: readonly string[], prefix = "") =>
  assignNames(previous, raws.map((raw) => request(raw, prefix)));

describe("safeName", () => {
  it("keeps device names as the voice servers name them: dots become underscores, nothing else changes", () => {
    expect(safeName("self.audio_speaker.set_volume")).toEqual({ name: "self_audio_speaker_set_volume", lossy: true, changes: 2, transliterated: false });
    expect(safeName("local_get_time")).toEqual({ name: "local_get_time", lossy: false, changes: 0, transliterated: false });
  });

  it("replaces punctuation LLM APIs reject, transliterates other scripts and keeps the result readable", () => {
    expect(safeName("self_light:toggle").name).toBe("self_light_toggle");
    expect(safeName("self_screen/x").name).toBe("self_screen_x");
    expect(safeName("打开灯").name).toBe("da_kai_deng");
    expect(safeName("打开light").name).toBe("da_kai_light");
    expect(safeName("café").name).toBe("cafe");
    expect(safeName("Привет мир").name).toBe("Privet_mir");
    expect(safeName("x😀y").name).toBe("x_u1f600_y");
    expect(safeName("").name).toBe("_");
  });

  it("keeps CJK characters when configured, as xiaozhi-esp32-server does, and still transliterates the rest", () => {
    expect(safeName("打开灯", { keepCjk: true })).toEqual({ name: "打开灯", lossy: false, changes: 0, transliterated: false });
    expect(safeName("打开 灯!", { keepCjk: true }).name).toBe("打开_灯_");
    expect(safeName("こんにちは", { keepCjk: true }).name).toBe("konnitiha");
  });

  it("shortens long names stably to 64 characters", () => {
    const long = "x".repeat(70);
    expect(safeName(long).name).toBe(`${"x".repeat(55)}_${hash8(long)}`);
  });

  it("always yields a name LLM APIs accept, and one xiaozhi's sanitizer leaves alone (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (raw) => {
        const { name } = safeName(raw);
        expect(name).toMatch(SAFE);
        expect(XIAOZHI_UNSAFE.test(name)).toBe(false);
        expect(safeName(raw).name).toBe(name); // deterministic
        const cjk = safeName(raw, { keepCjk: true }).name;
        expect(cjk.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
        expect(XIAOZHI_UNSAFE.test(cjk)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("assignNames", () => {
  it("gives the issue's colliding provider tools one name each, each routing to its own tool", () => {
    const raws = ["打开灯", "关闭灯", "echo", "get.time", "get_time", "status"];
    const { byKey, byName } = named(undefined, raws, "home");
    expect(Object.fromEntries(byKey)).toEqual({
      打开灯: "home__da_kai_deng",
      关闭灯: "home__guan_bi_deng",
      echo: "home__echo",
      "get.time": `home__get_time_${hash8("get.time")}`,
      get_time: "home__get_time",
      status: "home__status",
    });
    for (const [key, name] of byKey) expect(byName.get(name)).toBe(key);
  });

  it("lets the closest raw name win a simultaneous claim, whatever the list order", () => {
    expect(named(undefined, ["self.a.b", "self.a_b"]).byKey.get("self.a_b")).toBe("self_a_b");
    expect(named(undefined, ["self.a_b", "self.a.b"]).byKey.get("self.a_b")).toBe("self_a_b");
    expect(named(undefined, ["self.a_b", "self.a.b"]).byKey.get("self.a.b")).toBe(`self_a_b_${hash8("self.a.b")}`);
    // A tie: both move on to a suffixed name.
    const both = named(undefined, ["a.b", "a:b"]).byKey;
    expect([...both.values()].every((name) => /^a_b_[0-9a-f]{8}$/.test(name))).toBe(true);
  });

  it("keeps a tool's name when a colliding newcomer joins, and reserves a name after its tool leaves", () => {
    const first = named(undefined, ["get.time"]);
    expect(first.byKey.get("get.time")).toBe("get_time");
    const joined = named(first.names, ["get.time", "get_time"]);
    expect(joined.byKey.get("get.time")).toBe("get_time");
    expect(joined.byKey.get("get_time")).toBe(`get_time_${hash8("get_time")}`);
    // get.time leaves: its name is not handed to another tool…
    const left = named(joined.names, ["get_time", "a:b"]);
    expect(left.byName.get("get_time")).toBeUndefined();
    // …and it gets it back when it returns.
    expect(named(left.names, ["get.time", "get_time"]).byKey.get("get.time")).toBe("get_time");
  });

  it("tries candidates in order, and qualifies every claimant of a simultaneous tie (external rule)", () => {
    const external = (server: string, tool: string): NameRequest => ({
      key: `${server}/${tool}`,
      candidates: [`mcp_${tool}`, `mcp_${server}_${tool}`],
      distance: 0,
    });
    const { byKey } = assignNames(undefined, [external("alpha", "search"), external("beta", "search"), external("alpha", "only")]);
    expect(Object.fromEntries(byKey)).toEqual({ "alpha/search": "mcp_alpha_search", "beta/search": "mcp_beta_search", "alpha/only": "mcp_only" });
  });

  it("reports unchanged names as unchanged, so callers write storage only on change", () => {
    const first = named(undefined, ["a", "b"]);
    expect(first.changed).toBe(true);
    expect(named(first.names, ["b", "a"]).changed).toBe(false);
  });

  it("forgets the oldest retired names past the limit", () => {
    let names: StoredNames = EMPTY_NAMES;
    for (let i = 0; i < 5; i += 1) names = assignNames(names, [request(`t${i}`)], 3).names;
    expect(names.retired.map(([key]) => key)).toEqual(["t3", "t2", "t1"]);
  });
});

/** Raw names that collide a lot once sanitized: few base letters, punctuation, CJK, very long ones. */
const rawName = fc.oneof(
  fc.stringMatching(/^[ab][._:/ -]?[ab_]?$/),
  fc.constantFrom("打开灯", "关闭灯", "打开 灯", "get.time", "get_time", "get time", "😀", "🙂", "x".repeat(80), `${"x".repeat(80)}y`),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);
const rawList = fc.uniqueArray(rawName, { maxLength: 12 });

describe("assignNames (properties)", () => {
  it("names are unique and safe, and each routes to its own tool", () => {
    fc.assert(
      fc.property(rawList, (raws) => {
        const { byKey, byName } = named(undefined, raws);
        const names = raws.map((raw) => byKey.get(raw)!);
        expect(new Set(names).size).toBe(raws.length);
        for (const name of names) expect(name).toMatch(SAFE);
        for (const raw of raws) expect(byName.get(byKey.get(raw)!)).toBe(raw);
      }),
      { numRuns: 400 },
    );
  });

  it("the same input gives the same names, whatever its order", () => {
    fc.assert(
      fc.property(rawList, fc.integer(), (raws, seed) => {
        const shuffled = [...raws].sort((a, b) => (hash8(`${seed}${a}`) < hash8(`${seed}${b}`) ? -1 : 1));
        expect(Object.fromEntries(named(undefined, shuffled).byKey)).toEqual(Object.fromEntries(named(undefined, raws).byKey));
      }),
      { numRuns: 300 },
    );
  });

  it("peers joining and leaving in any order never rename a tool that stays, nor reuse a name for another tool", () => {
    // Each step is the tool set of one moment: tools join and leave between steps.
    const history = fc.array(fc.uniqueArray(rawName, { maxLength: 8 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(history, (steps) => {
        let names: StoredNames | undefined;
        let previous = new Map<string, string>();
        const everGiven = new Map<string, string>(); // name → the tool it was first given to
        for (const raws of steps) {
          const assignment = named(names, raws);
          for (const raw of raws) {
            const name = assignment.byKey.get(raw)!;
            if (previous.has(raw)) expect(name).toBe(previous.get(raw));
            expect(everGiven.get(name) ?? raw).toBe(raw);
            everGiven.set(name, raw);
          }
          expect(new Set(assignment.byKey.values()).size).toBe(raws.length);
          names = assignment.names;
          previous = new Map(assignment.byKey);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the same history gives the same names", () => {
    const history = fc.array(fc.uniqueArray(rawName, { maxLength: 6 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(history, (steps) => {
        const run = () => {
          let names: StoredNames | undefined;
          return steps.map((raws) => {
            const assignment = named(names, raws);
            names = assignment.names;
            return Object.fromEntries(assignment.byKey);
          });
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 200 },
    );
  });
});
