/**
 * Short-lived stream tokens: how a browser follows a stream with `EventSource`, which
 * cannot send `Authorization`. An authenticated call mints one for one run or one
 * conversation; it is accepted as `?access_token=` on the GET stream routes of that
 * run or conversation only, for 60 seconds. Threat model: docs/stream-tokens.md.
 *
 * A token is an HS256 JWT (`cst_` + JWT) with the audience `convo-stream`, signed with
 * a key derived from the server's secret for this purpose alone, so a stream token is
 * never accepted as a user token (and a user token never as a stream token).
 */
import { createHmac, randomBytes } from "node:crypto";
import { UnauthorizedError } from "@convo/core";
import { jwtVerify, SignJWT } from "jose";

export const STREAM_TOKEN_PREFIX = "cst_";
const AUDIENCE = "convo-stream";

/** What a stream token lets its holder read. */
export interface StreamGrant {
  userId: string;
  scope: "run" | "conversation";
  /** The run or conversation id. */
  id: string;
}

export class StreamTokens {
  readonly #key: Uint8Array;

  /**
   * @param secret The server's secret (`CONVO_STREAM_TOKEN_SECRET`, else
   *   `CONVO_JWT_SECRET`). Without one a random per-process key is used: tokens then
   *   work only on the node that minted them.
   * @param ttlSeconds Lifetime of a token (default 60).
   */
  constructor(
    secret: string | undefined,
    readonly ttlSeconds = 60,
  ) {
    const base = secret ?? randomBytes(32).toString("hex");
    this.#key = createHmac("sha256", base).update("convo stream tokens v1").digest();
  }

  /** Mints a token for `grant`; answers it with its expiry. */
  async mint(grant: StreamGrant): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + this.ttlSeconds) * 1000);
    const jwt = await new SignJWT({ scope: grant.scope, rid: grant.id })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(grant.userId)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.#key);
    return { token: `${STREAM_TOKEN_PREFIX}${jwt}`, expiresAt };
  }

  /** The grant of a token; UnauthorizedError when it is not valid, expired or not a stream token. */
  async verify(token: string): Promise<StreamGrant> {
    if (!token.startsWith(STREAM_TOKEN_PREFIX)) throw new UnauthorizedError("access_token is not a stream token");
    try {
      const { payload } = await jwtVerify(token.slice(STREAM_TOKEN_PREFIX.length), this.#key, {
        audience: AUDIENCE,
        algorithms: ["HS256"],
      });
      const { sub, scope, rid } = payload as { sub?: unknown; scope?: unknown; rid?: unknown };
      if (typeof sub !== "string" || typeof rid !== "string" || (scope !== "run" && scope !== "conversation")) {
        throw new UnauthorizedError("access_token is malformed");
      }
      return { userId: sub, scope, id: rid };
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      throw new UnauthorizedError("access_token is not valid or has expired", { cause: error });
    }
  }
}

/**
 * The GET routes a stream token opens, by route pattern (never by the raw URL), and
 * the route parameter that must name the token's run or conversation.
 */
export const STREAM_ROUTES: ReadonlyMap<string, { scope: StreamGrant["scope"]; param: string }> = new Map([
  ["/v1/runs/:runId/stream", { scope: "run", param: "runId" }],
  ["/v1/conversations/:id/stream", { scope: "conversation", param: "id" }],
  ["/v1/chat/:id/stream", { scope: "conversation", param: "id" }],
] as const);

/** `url` with the value of `access_token` replaced, for logs. */
export function redactAccessToken(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, "$1[redacted]");
}
