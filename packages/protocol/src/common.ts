/**
 * Shared pieces of the API's request and response schemas. Declared once with Zod:
 * Fastify validates with them, TypeScript types handlers with them, and
 * `/openapi.json` is generated from them.
 */
import { z } from "zod";
import { LIMITS } from "./limits.js";

export const Uuid = z.uuid({ version: "v4" }).or(z.uuid()).describe("UUID");
export const IsoTime = z.string().describe("ISO 8601 time, UTC");

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe("Stable, upper-case error code"),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .describe("Error");

/** The error responses every route can give, for the OpenAPI document. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
} as const;

export const UserIdParams = z.strictObject({ userId: z.uuid() });
export const IdParams = z.strictObject({ id: z.uuid() });

/**
 * Query-string integers arrive as text: plain decimal digits only. `Number()` would
 * read `0x10` as 16, `1e1` as 10 and an empty value as 0; each is refused (400).
 *
 * @example
 * const ListQuery = z.strictObject({ limit: QueryInt(1, 100).optional() });
 * ListQuery.parse({ limit: "20" }); // { limit: 20 }; "0x10" or "" fail
 */
export const QueryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, "must be a non-negative decimal integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A client-chosen id (`clientMessageId`, `externalId`). */
export const ClientId = z.string().max(LIMITS.idLength);
/** A deployment name, e.g. prod or test. */
export const Env = z.string().max(LIMITS.envLength).describe("Deployment, e.g. prod or test");
/** A seq or `after` cursor in a query string. */
export const QuerySeq = QueryInt(0, LIMITS.maxSeq);

/** `GET /healthz`: the process is up. */
export const HealthBody = z.object({ status: z.literal("ok") }).describe("Health");
/** `GET /readyz`: the database answers and migrations are applied. */
export const ReadyBody = z
  .object({ status: z.literal("ready"), engine: z.enum(["pglite", "postgres"]), migrations: z.literal("applied") })
  .describe("Ready");

// The types of the schemas above, for handlers and clients.
export type Uuid = z.infer<typeof Uuid>;
export type IsoTime = z.infer<typeof IsoTime>;
export type ErrorBody = z.infer<typeof ErrorBody>;
export type UserIdParams = z.infer<typeof UserIdParams>;
export type IdParams = z.infer<typeof IdParams>;
export type ClientId = z.infer<typeof ClientId>;
export type Env = z.infer<typeof Env>;
export type QuerySeq = z.infer<typeof QuerySeq>;
export type HealthBody = z.infer<typeof HealthBody>;
export type ReadyBody = z.infer<typeof ReadyBody>;
