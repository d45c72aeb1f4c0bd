/**
 * Authentication for `/v1/*`: `Authorization: Bearer <admin key | end-user JWT>`.
 * Sets `request.principal`. In open mode (nothing configured) every caller is an
 * admin — the server then listens on loopback only (see server.ts).
 */
import type { ApiKeysService } from "@convo/core/internal";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ApiKeyCache } from "../auth/api-key-cache.js";
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
  /** Short-lived tokens accepted as `?access_token=` on the GET stream routes. */
  streamTokens: StreamTokens;
}

const OPEN: Principal = { kind: "admin", keyId: null };

export const authPlugin = fp(async (app: FastifyInstance, options: AuthOptions) => {
  const keys = new ApiKeyCache(options.apiKeys);
  app.decorateRequest("principal", null as never);
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/v1/")) return;
    const header = request.headers.authorization;
    const accessToken = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (!header && accessToken !== undefined) {
      request.principal = await streamPrincipal(request, options.streamTokens, accessToken);
      return;
    }
    if (!header) {
      if (options.open) {
        request.principal = OPEN;
        return;
      }
      throw new UnauthorizedError("Authorization: Bearer <api key or user token> is required");
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedError("Authorization must be 'Bearer <credential>'");
    const credential = match[1] as string;
    if (credential.startsWith("convo_sk_")) {
      const keyId = await keys.verify(credential);
      if (!keyId) throw new UnauthorizedError("API key is not valid or was revoked");
      request.principal = { kind: "admin", keyId };
      return;
    }
    if (options.tokens.enabled && credential.split(".").length === 3) {
      request.principal = { kind: "user", userId: await options.tokens.verify(credential) };
      return;
    }
    throw new UnauthorizedError("credential is not a valid API key or user token");
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
