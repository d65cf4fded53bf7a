/**
 * One Durable Object per external MCP server (named by the server and a digest of its connection settings): a
 * thin shell over src/sources/external/upstream.ts, which owns the cached tool list, the MCP session, health
 * and backoff. Callers on one server never wait on another server: each server is its own object.
 */
import { DurableObject } from "cloudflare:workers";
import { configFromEnv } from "../src/core/env-config";
import type { Result } from "../src/core/errors";
import type { RawCallResult } from "../src/sources/external/result-mapping";
import { countObjectRequest } from "../src/observability/object-traffic";
import { Upstream } from "../src/sources/external/upstream";
import type { CallRequest, CatalogueReply, CatalogueRequest, UpstreamRef, UpstreamRpc, UpstreamStatus } from "../src/sources/external/upstream-rpc";
import { hostOf } from "./host";

export class UpstreamObject extends DurableObject<Env> implements UpstreamRpc {
  readonly #upstream: Upstream;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#upstream = new Upstream(hostOf(ctx), () => configFromEnv(env));
  }

  catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    countObjectRequest("upstream");
    return this.#upstream.catalogue(request);
  }

  call(request: CallRequest): Promise<Result<RawCallResult>> {
    countObjectRequest("upstream");
    return this.#upstream.call(request);
  }

  status(request: UpstreamRef): Promise<Result<UpstreamStatus>> {
    countObjectRequest("upstream");
    return this.#upstream.status(request);
  }

  /** Background retry of an unhealthy server. */
  override alarm(): Promise<void> {
    return this.#upstream.alarm();
  }
}
