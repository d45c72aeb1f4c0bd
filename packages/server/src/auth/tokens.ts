/**
 * End-user tokens: JWTs whose `sub` is the Convo user id, signed with an HS256
 * secret (`CONVO_JWT_SECRET`, minted by `convo token`) or verified against a JWKS
 * URL (`CONVO_JWKS_URL`, tokens issued by your own identity provider).
 */
import { isUuid } from "@convo/core";
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify, SignJWT } from "jose";
import { UnauthorizedError } from "./principal.js";

export interface TokenOptions {
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Longest lifetime (`exp` − now) accepted, in ms (default 7 days). */
  maxLifetimeMs?: number;
}

const DEFAULT_MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/**
 * Checks end-user bearer tokens (HS256 secret or JWKS) and answers the user id they
 * speak for. The app builds one from its options; `enabled` is false when neither
 * a secret nor a JWKS URL is set.
 *
 * @example
 * const tokens = new TokenVerifier({ secret: process.env.CONVO_JWT_SECRET });
 * const userId = await tokens.verify(bearerToken); // UnauthorizedError when invalid or expired
 */
export class TokenVerifier {
  readonly #secret?: Uint8Array;
  readonly #jwks?: JWTVerifyGetKey;

  constructor(private readonly options: TokenOptions) {
    if (options.secret) this.#secret = new TextEncoder().encode(options.secret);
    if (options.jwksUrl) this.#jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  }

  /** True when tokens can be checked at all (a secret or a JWKS URL is set). */
  get enabled(): boolean {
    return this.#secret !== undefined || this.#jwks !== undefined;
  }

  /**
   * The user id the token speaks for; UnauthorizedError when it is not valid. A token
   * must carry `exp` (one without would be valid for ever) no further away than
   * `maxLifetimeMs`.
   */
  async verify(token: string): Promise<string> {
    const verifyOptions = { issuer: this.options.issuer, audience: this.options.audience, requiredClaims: ["exp"] };
    try {
      const { payload } = this.#jwks
        ? await jwtVerify(token, this.#jwks, verifyOptions)
        : await jwtVerify(token, this.#secret as Uint8Array, { ...verifyOptions, algorithms: ["HS256"] });
      if (!isUuid(payload.sub)) throw new UnauthorizedError("token subject is not a user id");
      const maxLifetimeMs = this.options.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
      if ((payload.exp as number) * 1000 - Date.now() > maxLifetimeMs) {
        throw new UnauthorizedError(
          `token lives longer than the allowed ${Math.round(maxLifetimeMs / 1000)} s; issue a shorter one`,
        );
      }
      return payload.sub.toLowerCase();
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (
        (error as { code?: string }).code === "ERR_JWT_CLAIM_VALIDATION_FAILED" &&
        (error as { claim?: string }).claim === "exp"
      ) {
        throw new UnauthorizedError("token has no expiry (exp is required)", { cause: error });
      }
      throw new UnauthorizedError("token is not valid or has expired", { cause: error });
    }
  }
}

/**
 * Mints an HS256 end-user token (for testing, or for a backend that hands tokens to its clients).
 *
 * @example
 * const token = await mintToken(process.env.CONVO_JWT_SECRET!, user.id, { expiresIn: "15m" });
 * await fetch(`${convoUrl}/v1/users/${user.id}/conversations`, { headers: { authorization: `Bearer ${token}` } });
 */
export async function mintToken(
  secret: string,
  userId: string,
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "1h");
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
