/**
 * Rules every LLM tool name obeys, whatever its source: only `[A-Za-z0-9_-]`, at most 64 characters (LLM
 * APIs reject longer names), shortened the same way on every run. Pure.
 */
export const MAX_NAME_LENGTH = 64;

/** Replaces every character an LLM API rejects in a tool name with `_`. */
export function sanitizeName(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9_-]/g, "_");
  return clean === "" ? "_" : clean;
}

/** Stable shortening: first 55 characters + `_` + 8 hex digits of the full name = 64. */
export function shorten(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  return `${name.slice(0, MAX_NAME_LENGTH - 9)}_${hash8(name)}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: a stable, dependency-free naming hash (not a security hash). */
export function hash8(text: string): string {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
