/**
 * Retries with exponential backoff and jitter. Jitter spreads the retries of many gateways that failed at
 * the same moment (a deploy, a blip), so they do not hit the recovering service in lockstep.
 */
export interface RetryPolicy {
  /** Total tries, the first included; 1 disables retries. */
  attempts: number;
  /** Delay cap before the first retry; doubles for each further retry. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

/** "Equal jitter": half of the capped exponential delay, plus a random share of the other half. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export interface RetryOptions {
  policy: RetryPolicy;
  shouldRetry: (error: unknown) => boolean;
  random: () => number;
  sleep: Sleep;
  signal?: AbortSignal | undefined;
  onRetry?: (retry: number, delayMs: number, error: unknown) => void;
}

/** Runs `attempt` (numbered from 1) until it succeeds, fails for good, or the tries are used up. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= options.policy.attempts || !options.shouldRetry(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(n, options.policy, options.random);
      options.onRetry?.(n, delay, error);
      await options.sleep(delay, options.signal);
    }
  }
}
