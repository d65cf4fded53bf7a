import { describe, expect, it } from "vitest";
import { backoffMs, initialHealth, isCoolingDown, recordFailure, recordSuccess, toolsVisible } from "./health";

const policy = { retry_initial_ms: 1000, retry_max_ms: 8000 };

describe("health", () => {
  it("doubles the backoff up to the max", () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => backoffMs(n, policy))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("opens the circuit on failure until the retry time, and closes it on success", () => {
    const failed = recordFailure(initialHealth(), "refused", 10_000, policy);
    expect(failed).toMatchObject({ state: "unhealthy", failures: 1, last_error: "refused", unhealthy_since: 10_000, next_retry_at: 11_000 });
    expect(isCoolingDown(failed, 10_500)).toBe(true);
    expect(isCoolingDown(failed, 11_000)).toBe(false);
    const again = recordFailure(failed, "refused", 11_000, policy);
    expect(again).toMatchObject({ failures: 2, unhealthy_since: 10_000, next_retry_at: 13_000 });
    const healed = recordSuccess(again, 13_000);
    expect(healed).toMatchObject({ state: "healthy", failures: 0, last_success: 13_000, unhealthy_since: null, next_retry_at: null });
    expect(healed.last_error).toBe("refused");
  });

  it("keeps tools visible for the grace period, then hides them", () => {
    const failed = recordFailure(recordSuccess(initialHealth(), 0), "down", 1_000, policy);
    expect(toolsVisible(failed, 30_000, 60)).toBe(true);
    expect(toolsVisible(failed, 61_000, 60)).toBe(false);
    expect(toolsVisible(initialHealth(), 0, 0)).toBe(true);
  });
});
