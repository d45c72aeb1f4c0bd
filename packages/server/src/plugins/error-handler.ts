/**
 * The one place errors become responses: `{ error: { code, message, details } }`.
 * Typed errors carry their status and code; schema failures name the field; anything
 * else is a 500, logged with the request id — and counts as a bug to fix.
 */
import { isConvoError } from "@convo/core";
import { mapDatabaseError } from "@convo/core/internal";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";

interface Body {
  error: { code: string; message: string; details?: unknown };
}

// Zod issue codes that mean "well-formed but not an acceptable value" (422); every
// other schema failure (wrong type, unknown field, malformed id…) is malformed (400).
const VALUE_ISSUES = new Set(["too_big", "too_small", "custom", "not_multiple_of"]);

/** Field path of a schema issue: `body.title`, `params.id`, `query.limit`. */
function fieldOf(context: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const path = instancePath.replace(/^\//, "").replaceAll("/", ".");
  const keys = Array.isArray(params.keys) ? (params.keys as string[]).join(",") : "";
  const tail = [path, keys].filter(Boolean).join(".");
  // Fastify names the query string's context "querystring"; the API calls it query.
  const where = context === "querystring" ? "query" : (context ?? "body");
  return [where, tail].filter(Boolean).join(".");
}

function toResponse(error: unknown): { status: number; body: Body } | undefined {
  const mapped = mapDatabaseError(error);
  if (isConvoError(mapped)) return { status: mapped.status, body: { error: mapped.toJSON() } };
  const e = error as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(e)) {
    const issues = e.validation.map((v) => ({
      field: fieldOf(e.validationContext, v.instancePath, v.params as Record<string, unknown>),
      code: v.keyword,
      message: v.message,
    }));
    const first = issues[0]!;
    const status = issues.every((i) => VALUE_ISSUES.has(i.code)) ? 422 : 400;
    const message = first.code === "unrecognized_keys" ? `unknown field(s): ${first.field}` : `${first.field}: ${first.message}`;
    return {
      status,
      body: {
        error: {
          code: status === 422 ? "VALIDATION_FAILED" : "INVALID_REQUEST",
          message,
          details: { field: first.field, issues },
        },
      },
    };
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: { error: { code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than the limit" } },
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: { error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "Send JSON (Content-Type: application/json)" } },
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, body: { error: { code: "INVALID_JSON", message: "The body is not valid JSON" } } };
  }
  if (e instanceof SyntaxError || e.statusCode === 400) {
    return { status: 400, body: { error: { code: "INVALID_JSON", message: e.message || "The body is not valid JSON" } } };
  }
  if (e.statusCode === 429) {
    return { status: 429, body: { error: { code: "RATE_LIMITED", message: e.message || "Too many requests" } } };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: { code: e.code ?? "BAD_REQUEST", message: e.message } } };
  }
  return undefined;
}

export function registerErrorHandler(
  app: FastifyInstance,
  options: {
    /** Answers a request no route matched, when it can (the web app's client-side routes); false = the JSON 404. */
    fallback?: (request: FastifyRequest, reply: FastifyReply) => boolean;
  } = {},
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const response = toResponse(error);
    if (response) {
      const retryAfter = (response.body.error.details as { retryAfter?: unknown } | undefined)?.retryAfter;
      if (response.status === 429 && typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      if (response.status >= 500) request.log.warn({ err: error }, "request failed: %s", response.body.error.code);
      return reply.status(response.status).send(response.body);
    }
    request.log.error({ err: error }, "unhandled error (a bug): request %s", request.id);
    return reply.status(500).send({
      error: { code: "INTERNAL", message: "Internal error; it has been logged", details: { requestId: request.id } },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    if (options.fallback?.(request, reply)) return;
    reply
      .status(404)
      .send({ error: { code: "ROUTE_NOT_FOUND", message: `No route ${request.method} ${request.url.split("?")[0]}` } });
  });
}
