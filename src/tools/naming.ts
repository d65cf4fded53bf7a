/**
 * The one naming module of every tool source (device, local, external, dial-in). Two parts, both pure:
 *
 * 1. {@link safeName}: a source's raw tool name → a name LLM APIs accept, `^[A-Za-z0-9_-]{1,64}$`. ASCII
 *    punctuation becomes `_` one for one (so `self.audio_speaker.set_volume` stays
 *    `self_audio_speaker_set_volume`, as the voice servers name device tools); other scripts are transliterated
 *    (`打开灯` → `da_kai_deng`) by a maintained library, pinned so names never change under a minor upgrade;
 *    anything left (emoji) becomes `u<code point>`. With `keepCjk` (xiaozhi-esp32-server's own rule, for
 *    deployments that want it) the CJK block U+4E00–U+9FFF is kept as it is. Names over 64 characters keep
 *    their first 55 (less a trailing `_`) and end with `_` + 8 hex digits of the whole name.
 *
 * 2. {@link assignNames}: gives each tool of one naming scope (a session's device, an agent's providers, a
 *    session's external servers) exactly one name, and keeps it:
 *    - a tool that was named before keeps its name for as long as it exists, whatever joins or leaves;
 *    - a tool that left keeps its name reserved for a while (`retired`), so a name the LLM was given never
 *      runs a different tool, and a tool that comes back (a reconnect) gets its old name again;
 *    - newcomers take their first free candidate; when several want the same one at once, the one whose raw
 *      name is closest to it wins (`get_time` over `get.time`); on a tie none does and all move on;
 *    - past the candidates: the last candidate + `_` + 8 hex of the tool's key, deterministic.
 *    Calls are routed through the stored name → key table, never by position.
 *
 * The same history of tool lists always gives the same names; a fresh scope given one list gives the same
 * names whatever the list's order.
 */
import { transliterate } from "transliteration";
import { z } from "zod";

export const MAX_NAME_LENGTH = 64;
/** Names kept reserved after their tool left, per scope (the oldest are forgotten first). */
export const RETIRED_LIMIT = 256;

export interface NamingOptions {
  /** Keep CJK characters (U+4E00–U+9FFF) in names, as xiaozhi-esp32-server's `sanitize_tool_name` does. */
  keepCjk: boolean;
}

export const DEFAULT_NAMING: NamingOptions = { keepCjk: false };

const ASCII_SAFE = /[A-Za-z0-9_-]/;
const CJK = /[\u4e00-\u9fff]/;

/** FNV-1a, 32 bits, as 8 hex digits: a stable, dependency-free naming hash (not a security hash). */
export function hash8(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * Stable shortening: first 55 characters + `_` + 8 hex digits of the full name = 64 (fewer when the cut ends on
 * `_`: one underscore before the hash, never two, as `__` is the dial-in providers' separator).
 */
export function shorten(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  return `${name.slice(0, MAX_NAME_LENGTH - 9).replace(/_+$/, "")}_${hash8(name)}`;
}

export interface SafeName {
  name: string;
  /** Characters were replaced or transliterated: the raw name is not the LLM name. */
  lossy: boolean;
  /** How many characters of the raw name were replaced or transliterated (shortening aside). */
  changes: number;
  /** Another script was romanized: the LLM should be shown the original too (in the description). */
  transliterated: boolean;
}

/** A raw tool (or server, provider) name as an LLM-safe name, at most 64 characters. */
export function safeName(raw: string, options: NamingOptions = DEFAULT_NAMING): SafeName {
  const sanitized = sanitizeName(raw, options);
  const name = shorten(sanitized.name);
  return { ...sanitized, name, lossy: name !== raw };
}

/** `__` separates a dial-in provider's name from its tool's: names of other sources hold single underscores only. */
export function singleUnderscores(name: string): string {
  return name.replace(/_{2,}/g, "_");
}

/**
 * The description the LLM is shown for a tool named from `raw`: a name romanized from another script keeps the
 * original at the start, so the model (and a user reading a transcript) still knows what the tool is.
 */
export function describeNamed(raw: string, description: string, options: NamingOptions = DEFAULT_NAMING): string {
  return sanitizeName(raw, options).transliterated ? `[${raw}] ${description}`.trim() : description;
}

/** {@link safeName} without the length limit: for a part that gets a prefix before it is shortened. */
export function sanitizeName(raw: string, options: NamingOptions = DEFAULT_NAMING): SafeName {
  let out = "";
  let foreign = "";
  let changes = 0;
  let transliterated = false;
  const flush = (next: string) => {
    if (foreign === "") return;
    out += romanize(foreign, out, next);
    foreign = "";
    transliterated = true;
  };
  for (const char of raw) {
    if (ASCII_SAFE.test(char) || (options.keepCjk && CJK.test(char))) {
      flush(char);
      out += char;
    } else if (char.charCodeAt(0) < 0x80) {
      flush("_");
      out += "_";
      changes += 1;
    } else {
      foreign += char;
      changes += 1;
    }
  }
  flush("");
  const name = out === "" ? "_" : out;
  return { name, lossy: name !== raw, changes, transliterated };
}

/** Scripts written without spaces between words: their romanization is split into words joined by `_`. */
const WORD_SCRIPTS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * A run of non-ASCII characters in ASCII. CJK becomes lower-case words joined by `_`, separated from letters
 * around it (`打开light` → `da_kai_light`); accented and other alphabetic scripts are transliterated in place
 * (`café` → `cafe`); what has no transliteration (emoji, symbols) becomes `u<code point>`.
 */
function romanize(run: string, before: string, after: string): string {
  const text = transliterate(run);
  if (!WORD_SCRIPTS.test(run)) {
    const direct = text.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^_+|_+$/g, "");
    if (direct !== "") return direct;
  }
  const words = text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
  // Nothing to transliterate to (emoji, symbols): code points keep it distinct and deterministic.
  const word = words.length > 0 ? words.join("_") : [...run].map((char) => `u${char.codePointAt(0)!.toString(16)}`).join("_");
  const left = /[A-Za-z0-9]$/.test(before) ? "_" : "";
  const right = /^[A-Za-z0-9]/.test(after) ? "_" : "";
  return left + word + right;
}

/** What a naming scope remembers: live tools by key, and retired ones (newest first) keeping their names. */
export const StoredNames = z.object({
  live: z.array(z.tuple([z.string(), z.string()])),
  retired: z.array(z.tuple([z.string(), z.string()])),
});
export type StoredNames = z.infer<typeof StoredNames>;

export const EMPTY_NAMES: StoredNames = { live: [], retired: [] };

export interface NameRequest {
  /** The tool's identity in its scope (e.g. its raw name, or `server\0tool`). */
  key: string;
  /** LLM-safe names in order of preference; at least one. */
  candidates: readonly string[];
  /**
   * How far the raw name is from `candidates[0]` (characters replaced): of several newcomers wanting that name
   * at once, the one unique closest wins it (`get_time` over `get.time`); on a tie none does.
   */
  distance: number;
}

export interface Assignment {
  names: StoredNames;
  /** key → name, for the requested keys. */
  byKey: ReadonlyMap<string, string>;
  /** name → key, for the requested keys: how calls are routed. */
  byName: ReadonlyMap<string, string>;
  /** Whether `names` differs from what was given (the caller stores it only then). */
  changed: boolean;
  /** First candidates wanted by more than one newcomer at once, for a one-time log. */
  collisions: { name: string; keys: string[] }[];
}

/** Names every requested key; see the module comment for the rules. */
export function assignNames(previous: StoredNames | undefined, requests: readonly NameRequest[], retiredLimit = RETIRED_LIMIT): Assignment {
  const before = previous ?? EMPTY_NAMES;
  const wanted = new Map<string, NameRequest>();
  for (const request of requests) if (!wanted.has(request.key)) wanted.set(request.key, request);

  const byKey = new Map<string, string>();
  const taken = new Set<string>();
  // 1. Keys named before keep their names: live ones first, then returning retired ones (newest first).
  for (const [key, name] of [...before.live, ...before.retired]) {
    if (!wanted.has(key) || byKey.has(key) || taken.has(name)) continue;
    byKey.set(key, name);
    taken.add(name);
  }
  // Names of tools that left stay reserved (unless their key just took them back above).
  const stillRetired = [...before.live, ...before.retired].filter(([key]) => !wanted.has(key)).slice(0, retiredLimit);
  for (const [, name] of stillRetired) taken.add(name);

  // 2. Newcomers, candidate by candidate, in key order so the outcome does not depend on list order.
  let pending = [...wanted.values()].filter((request) => !byKey.has(request.key)).sort((a, b) => compare(a.key, b.key));
  const collisions: Assignment["collisions"] = [];
  const levels = Math.max(0, ...pending.map((request) => request.candidates.length));
  for (let level = 0; level < levels && pending.length > 0; level += 1) {
    const groups = new Map<string, NameRequest[]>();
    for (const request of pending) {
      const candidate = request.candidates[level];
      if (candidate === undefined) continue;
      const group = groups.get(candidate);
      if (group) group.push(request);
      else groups.set(candidate, [request]);
    }
    for (const [name, group] of groups) {
      if (level === 0 && group.length > 1) collisions.push({ name, keys: group.map((request) => request.key) });
      if (taken.has(name)) continue;
      const winner = group.length === 1 ? group[0] : level === 0 ? closest(group) : undefined;
      if (!winner) continue;
      byKey.set(winner.key, name);
      taken.add(name);
    }
    pending = pending.filter((request) => !byKey.has(request.key));
  }
  // 3. Whoever is left: the last candidate with a hash of the key; the attempt number only matters for a
  // (vanishingly rare) hash clash.
  for (const request of pending) {
    const base = request.candidates[request.candidates.length - 1] ?? "tool";
    for (let attempt = 0; ; attempt += 1) {
      const suffix = hash8(attempt === 0 ? request.key : `${attempt}\u0000${request.key}`);
      // One `_` before the hash, never two: `__` is the dial-in providers' separator.
      const name = `${base.slice(0, MAX_NAME_LENGTH - 9).replace(/_+$/, "")}_${suffix}`;
      if (taken.has(name)) continue;
      byKey.set(request.key, name);
      taken.add(name);
      break;
    }
  }

  // Stored in key order: the same tools in another list order are the same names (no storage write).
  const live: [string, string][] = [...wanted.keys()].sort(compare).map((key) => [key, byKey.get(key)!]);
  const names: StoredNames = { live, retired: stillRetired };
  const byName = new Map<string, string>();
  for (const [key, name] of live) byName.set(name, key);
  return { names, byKey, byName, changed: !sameNames(before, names), collisions };
}

/** The one request strictly closest to the name, if there is one. */
function closest(group: readonly NameRequest[]): NameRequest | undefined {
  const best = Math.min(...group.map((request) => request.distance));
  const winners = group.filter((request) => request.distance === best);
  return winners.length === 1 ? winners[0] : undefined;
}

function sameNames(a: StoredNames, b: StoredNames): boolean {
  const same = (x: readonly (readonly [string, string])[], y: readonly (readonly [string, string])[]) =>
    x.length === y.length && x.every(([key, name], i) => y[i]![0] === key && y[i]![1] === name);
  return same(a.live, b.live) && same(a.retired, b.retired);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
