/**
 * One batch window of metrics on the sending side. Alike items are merged before they travel: tool calls with
 * the same labels whose durations fall in the same histogram bucket become one record with a `count` and the
 * total of their durations, and HTTP requests with the same labels one record with a `count`. A busy isolate
 * then sends, and the metrics object writes, a few rows per window instead of a few per call.
 */
import { bucketFor, MAX_BATCH_RECORDS, type HttpRecord, type MetricsBatchInput, type SessionEvent, type ToolCallRecord } from "./metrics-model";

/** One tool call or one HTTP request, as a sender reports it (a record of `count` one). */
export type ToolCallItem = Omit<ToolCallRecord, "count">;
export type HttpItem = Omit<HttpRecord, "count">;

/** What a sender hands over: single items. */
export interface MetricsItems {
  tool_calls?: readonly ToolCallItem[];
  http?: readonly HttpItem[];
  sessions?: readonly SessionEvent[];
}

export class PendingBatch {
  readonly #toolCalls = new Map<string, ToolCallRecord>();
  readonly #http = new Map<string, HttpRecord>();
  readonly #sessions: SessionEvent[] = [];

  /** Whether `items` surely fit (counted as if none merged). */
  fits(items: MetricsItems): boolean {
    return (
      this.#toolCalls.size + (items.tool_calls?.length ?? 0) <= MAX_BATCH_RECORDS &&
      this.#http.size + (items.http?.length ?? 0) <= MAX_BATCH_RECORDS &&
      this.#sessions.length + (items.sessions?.length ?? 0) <= MAX_BATCH_RECORDS
    );
  }

  add(items: MetricsItems): void {
    for (const call of items.tool_calls ?? []) {
      const key = [call.tool_name, call.source, call.status, bucketFor(call.duration_ms / 1000)].join("\u0000");
      const merged = this.#toolCalls.get(key);
      if (merged) {
        merged.count += 1;
        merged.duration_ms += call.duration_ms;
      } else {
        this.#toolCalls.set(key, { ...call, count: 1 });
      }
    }
    for (const request of items.http ?? []) {
      const key = [request.route, request.method, request.status].join("\u0000");
      const merged = this.#http.get(key);
      if (merged) merged.count += 1;
      else this.#http.set(key, { ...request, count: 1 });
    }
    this.#sessions.push(...(items.sessions ?? []));
  }

  /** The records to send, in the order their first item arrived. Session events are never merged (versions). */
  toBatch(): MetricsBatchInput {
    return { tool_calls: [...this.#toolCalls.values()], http: [...this.#http.values()], sessions: [...this.#sessions] };
  }
}
