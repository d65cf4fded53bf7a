/** Deadlines on awaits that have none of their own (Durable Object RPC, streams, SDK calls). */
import { fail, type Result } from "./errors";

/** Resolves to `onTimeout()` if `work` has not settled within `ms`; the timer never outlives the race. */
export async function raceDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Result-returning call with a deadline: `timeout` ("<what> did not answer within <ms> ms") when it passes. */
export function withDeadline<T>(work: Promise<Result<T>>, ms: number, what: string): Promise<Result<T>> {
  return raceDeadline(work, ms, () => fail<T>("timeout", `${what} did not answer within ${ms} ms`));
}
