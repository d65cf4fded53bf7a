/**
 * vitest globalSetup of the `external-faults` project (runs in Node): starts the upstream processes the
 * fault-injection tests kill and freeze, and hands their addresses to the workers pool.
 */
import type { TestProject } from "vitest/node";
import { startFaultFixtures } from "../../fixtures/upstream-victims";

declare module "vitest" {
  export interface ProvidedContext {
    faultServers: Record<string, unknown>;
    faultControlUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startFaultFixtures();
  project.provide("faultServers", fixtures.mcpServers);
  project.provide("faultControlUrl", fixtures.controlUrl);
  return () => fixtures.stop();
}
