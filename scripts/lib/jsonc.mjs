// JSONC (wrangler.jsonc) to JSON, for the scripts and the bench: comments and trailing commas dropped,
// strings untouched. One implementation for every Node-side reader of the config.

/** JSONC → JSON: drops // and /* *\/ comments outside strings, then trailing commas. */
export function stripJsonc(text) {
  const uncommented = outsideStrings(text, (i) => {
    if (text[i] === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      return ["\n", end < 0 ? text.length : end + 1];
    }
    if (text[i] === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new Error("wrangler.jsonc: unterminated /* comment");
      return ["", end + 2];
    }
    return [text[i], i + 1];
  });
  // A comma followed only by whitespace and a closing bracket is a trailing comma.
  return outsideStrings(uncommented, (i) =>
    uncommented[i] === "," && /^\s*[}\]]/.test(uncommented.slice(i + 1, i + 200)) ? ["", i + 1] : [uncommented[i], i + 1],
  );
}

/**
 * Copies JSON string literals verbatim and hands every other position to `step`, which returns what to emit
 * and where to continue.
 * @param {string} text
 * @param {(i: number) => [string, number]} step
 */
function outsideStrings(text, step) {
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      const [emitted, next] = step(i);
      out += emitted;
      i = next;
      continue;
    }
    let end = i + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
    out += text.slice(i, end + 1);
    i = end + 1;
  }
  return out;
}
