/**
 * The first look at every frame a peer sends (a device through its relay, a dial-in provider): size and
 * nesting limits before parsing, then JSON. Constant work per bad frame: no storage write, and a warning
 * per time window rather than one per frame (a flood of garbage must not slow its session, or others).
 */
import { exceedsJsonDepth } from "../../core/json-depth";
import type { LogFields, LogLevel } from "../../observability/log";

export interface FrameLimits {
  maxBytes: number;
  maxDepth: number;
}

export type FrameIntake =
  | { kind: "json"; value: unknown }
  /** Over the size limit; `id` is the JSON-RPC id found near its start, when one is. */
  | { kind: "oversized"; bytes: number; id: number | undefined }
  | { kind: "too_deep" }
  | { kind: "malformed" };

export function readFrame(text: string, limits: FrameLimits): FrameIntake {
  if (byteLengthOver(text, limits.maxBytes)) return { kind: "oversized", bytes: byteLength(text), id: leadingId(text) };
  if (exceedsJsonDepth(text, limits.maxDepth)) return { kind: "too_deep" };
  try {
    return { kind: "json", value: JSON.parse(text) };
  } catch {
    return { kind: "malformed" };
  }
}

/**
 * The reply id of an oversized frame, read from its first bytes only: peers write `id` before `result`
 * (xiaozhi firmware's cJSON, the MCP SDKs), and the frame is too big to parse.
 */
function leadingId(text: string): number | undefined {
  const match = /"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(text.slice(0, 4096));
  return match ? Number(match[1]) : undefined;
}

/** UTF-8 size above `limit`, without encoding frames that are obviously small or obviously big. */
function byteLengthOver(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return byteLength(text) > limit;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

export type FrameFault = "oversized" | "too_deep" | "malformed" | "not_a_message";

/**
 * Bad frames of one peer connection, logged as one aggregated warning per window: the first fault of a
 * window is logged at once (so it shows up when it happens), the rest are counted and reported with the
 * first fault after the window. No timer: an idle object is not kept awake to flush a count.
 */
export class FrameFaultLog {
  readonly #counts: Record<FrameFault, number> = { oversized: 0, too_deep: 0, malformed: 0, not_a_message: 0 };
  #windowEndsMs = 0;
  #suppressed = 0;

  constructor(
    private readonly log: (level: LogLevel, event: string, fields?: LogFields) => void,
    private readonly now: () => number = Date.now,
    private readonly windowMs = 10_000,
  ) {}

  record(fault: FrameFault): void {
    this.#counts[fault] += 1;
    const now = this.now();
    if (now < this.#windowEndsMs) {
      this.#suppressed += 1;
      return;
    }
    this.log("warn", "peer.frames_rejected", {
      fault,
      suppressed_since_last: this.#suppressed,
      ...Object.fromEntries(Object.entries(this.#counts).map(([key, value]) => [`total_${key}`, value])),
    });
    this.#suppressed = 0;
    this.#windowEndsMs = now + this.windowMs;
  }

  counts(): Readonly<Record<FrameFault, number>> {
    return this.#counts;
  }
}
