/**
 * vitest globalSetup of the `external` project (runs in Node): starts the real upstream MCP servers and
 * hands their addresses to the workers pool (`project.provide` → `cloudflareTest(({ inject }) => …)`).
 */
import type { TestProject } from "vitest/node";
import { startUpstreamFixtures } from "../../fixtures/upstream-fixtures";

declare module "vitest" {
  export interface ProvidedContext {
    upstreamServers: Record<string, unknown>;
    upstreamControlUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await startUpstreamFixtures();
  project.provide("upstreamServers", fixtures.mcpServers);
  project.provide("upstreamControlUrl", fixtures.controlUrl);
  return () => fixtures.stop();
}
