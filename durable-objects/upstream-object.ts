/**
 * One Durable Object per external MCP server (named by the server and a digest of its connection settings): a
 * thin shell over src/sources/external/upstream.ts, which owns the cached tool list, the route callers use to
 * call the server directly (the shared MCP session), health and backoff. Tool calls do not come here, except
 * for HTTP+SSE upstreams. Callers on one server never wait on another server: each server is its own object.
 */
import { DurableObject } from "cloudflare:workers";
import { configFromEnv } from "../src/core/env-config";
import { withDeadline } from "../src/core/deadline";
import { ok, type Result } from "../src/core/errors";
import { sessionStub } from "../src/session/session-directory";
import type { Health } from "../src/sources/external/health";
import type { RawCallResult } from "../src/sources/external/result-mapping";
import { countObjectRequest } from "../src/observability/object-traffic";
import { Upstream } from "../src/sources/external/upstream";
import type { UpstreamRoute } from "../src/sources/external/upstream-model";
import type {
  CallRequest,
  CatalogueReply,
  CatalogueRequest,
  FollowRequest,
  RenewRequest,
  ReportRequest,
  UpstreamRef,
  UpstreamRpc,
  UpstreamStatus,
} from "../src/sources/external/upstream-rpc";
import { hostOf } from "./host";

export class UpstreamObject extends DurableObject<Env> implements UpstreamRpc {
  readonly #upstream: Upstream;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Followers are the shared MCP endpoint's stream objects (session class): told that the tool list changed.
    const tell = (followers: readonly string[]) => {
      for (const name of followers) ctx.waitUntil(withDeadline(sessionStub(env.SESSIONS, name).toolsChanged().then(() => ok(true)), 2_000, "follower"));
    };
    this.#upstream = new Upstream(hostOf(ctx), () => configFromEnv(env), tell);
  }

  catalogue(request: CatalogueRequest): Promise<Result<CatalogueReply>> {
    countObjectRequest("upstream");
    return this.#upstream.catalogue(request);
  }

  call(request: CallRequest): Promise<Result<RawCallResult>> {
    countObjectRequest("upstream");
    return this.#upstream.call(request);
  }

  follow(request: FollowRequest): Promise<Result<{ followers: number }>> {
    countObjectRequest("upstream");
    return this.#upstream.follow(request);
  }

  renew(request: RenewRequest): Promise<Result<UpstreamRoute>> {
    countObjectRequest("upstream");
    return this.#upstream.renew(request);
  }

  report(request: ReportRequest): Promise<Result<Health>> {
    countObjectRequest("upstream");
    return this.#upstream.report(request);
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
