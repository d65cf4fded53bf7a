// The bench's one way into the tests' upstream fixtures (test/fixtures/upstream-servers.ts, run by Node directly
// with type stripping, so its relative imports carry their `.ts` extension), loaded on first use: a suite that
// does not need them never pays for them.

/** @returns {Promise<typeof import("../../test/fixtures/upstream-servers.ts")>} */
export async function upstreamFixtures() {
  return import("../../test/fixtures/upstream-servers.ts");
}
