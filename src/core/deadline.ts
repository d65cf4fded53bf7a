/** Puts a deadline on an await that has none of its own (Durable Object RPC, for one). */
import { fail, type Result } from "./errors";

export async function withDeadline<T>(work: Promise<Result<T>>, ms: number, what: string): Promise<Result<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<Result<T>>((resolve) => {
    timer = setTimeout(() => resolve(fail("timeout", `${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
