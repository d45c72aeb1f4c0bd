/**
 * Authentication for the API routes: `Authorization: Bearer <admin key | end-user JWT>`.
 * Sets `request.principal`. In open mode (nothing configured) every caller is an
 * admin — the server then listens on loopback only (see server.ts).
 *
 * Whether a request needs credentials is decided by the route the router matched
 * (`request.routeOptions.url`), never by the raw URL: `/%761/…`, absolute request lines
 * (`GET http://host/v1/…`) and double slashes all reach the same handler as `/v1/…`.
 * It runs in `onRequest`, before the body is read, and a second check before every
 * handler refuses a call that somehow arrives without a principal.
 */
import type { ApiKeysService } from "@convo/core/internal";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ApiKeyCache } from "../auth/api-key-cache.js";
import { AuthFailureLimiter } from "../auth/failure-limiter.js";
import { type Principal, UnauthorizedError } from "../auth/principal.js";
import type { TokenVerifier } from "../auth/tokens.js";
import { STREAM_ROUTES, type StreamTokens } from "../chat/stream-tokens.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface AuthOptions {
  apiKeys: ApiKeysService;
  tokens: TokenVerifier;
  /** No key and no token secret: everyone is an admin (loopback only). */
  open: boolean;
  /** Failed authentications per client address per minute before 429 (default 30). */
  failureLimit?: number;
  /** Short-lived tokens accepted as `?access_token=` on the GET stream routes. */
  streamTokens: StreamTokens;
}

const OPEN: Principal = { kind: "admin", keyId: null };

/**
 * True when the matched route is part of the authenticated API. Unmatched requests
 * (404) and the operational routes (`/metrics`, `/healthz`, `/docs`…) are not.
 *
 * @example
 * app.addHook("onRequest", async (request) => { if (isApiRoute(request)) await authenticate(request) });
 */
export function isApiRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return typeof route === "string" && route.startsWith("/v1/");
}

export const authPlugin = fp(async (app: FastifyInstance, options: AuthOptions) => {
  const keys = new ApiKeyCache(options.apiKeys);
  const failures = new AuthFailureLimiter(options.failureLimit ?? 30);
  app.decorateRequest("principal", null as never);

  const authenticate = async (request: FastifyRequest): Promise<Principal> => {
    const header = request.headers.authorization;
    const accessToken = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (!header && accessToken !== undefined) return streamPrincipal(request, options.streamTokens, accessToken);
    if (!header) {
      if (options.open) return OPEN;
      throw new UnauthorizedError("Authorization: Bearer <api key or user token> is required");
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedError("Authorization must be 'Bearer <credential>'");
    const credential = match[1] as string;
    if (credential.startsWith("convo_sk_")) {
      const keyId = await keys.verify(credential);
      if (!keyId) throw new UnauthorizedError("API key is not valid or was revoked");
      return { kind: "admin", keyId };
    }
    if (options.tokens.enabled && credential.split(".").length === 3) {
      return { kind: "user", userId: await options.tokens.verify(credential) };
    }
    throw new UnauthorizedError("credential is not a valid API key or user token");
  };

  app.addHook("onRequest", async (request) => {
    if (!isApiRoute(request)) return;
    failures.check(request.ip);
    try {
      request.principal = await authenticate(request);
    } catch (error) {
      if (error instanceof UnauthorizedError) failures.fail(request.ip);
      throw error;
    }
  });
  app.addHook("preHandler", (request, _reply, done) => {
    done(isApiRoute(request) && !request.principal ? new UnauthorizedError("the request is not authenticated") : undefined);
  });
});

/**
 * The principal of a request authenticated by `?access_token=`: only on the GET stream
 * route the token was minted for, decided by the matched route pattern and its
 * parameters (never by the URL text).
 */
async function streamPrincipal(request: FastifyRequest, tokens: StreamTokens, accessToken: unknown): Promise<Principal> {
  const route = request.method === "GET" ? STREAM_ROUTES.get(request.routeOptions.url ?? "") : undefined;
  if (!route) throw new UnauthorizedError("access_token is accepted on the GET stream routes only; send Authorization");
  if (typeof accessToken !== "string") throw new UnauthorizedError("access_token must be given once");
  const grant = await tokens.verify(accessToken);
  const named = String((request.params as Record<string, unknown>)[route.param] ?? "").toLowerCase();
  if (grant.scope !== route.scope || grant.id !== named) {
    throw new UnauthorizedError(`access_token was minted for another ${grant.scope}`);
  }
  return { kind: "user", userId: grant.userId };
}
