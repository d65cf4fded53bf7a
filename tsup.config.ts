/**
 * The client as a package (`npm pack`): `xiaozhi-mcp-service/client` is compiled JavaScript plus one bundled
 * declaration file, so plain Node imports it and TypeScript checks it under `moduleResolution` NodeNext and
 * bundler alike (test/client/package.test.ts). zod and the tRPC packages stay imports of the consumer's own.
 */
import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/client/index.ts" },
  outDir: "dist/client",
  format: ["esm"],
  dts: true,
  target: "es2022",
  platform: "neutral",
  sourcemap: true,
  clean: true,
  external: ["zod", "@trpc/client", "@trpc/server"],
});
