// JSONC (wrangler.jsonc) to JSON, for the scripts and the bench: comments and trailing commas dropped,
// strings untouched. One implementation for every Node-side reader of the config.
/** JSONC → JSON: drops // and /* *\/ comments outside strings, and trailing commas. */
export function stripJsonc(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === "\\") out += text[++i] ?? "";
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i += 1;
      out += "\n";
    } else if (char === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      if (i < 0) throw new Error("wrangler.jsonc: unterminated /* comment");
      i += 1;
    } else {
      out += char;
    }
  }
  return dropTrailingCommas(out);
}

/** Removes commas followed only by whitespace and a closing bracket, outside strings. */
function dropTrailingCommas(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === "\\") out += text[++i] ?? "";
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char !== "," || !/^\s*[}\]]/.test(text.slice(i + 1, i + 200))) {
      out += char;
    }
  }
  return out;
}
