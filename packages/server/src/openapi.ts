/**
 * Completes each operation of `/openapi.json` from facts the routes already state, so
 * no route repeats them: an `operationId` from the method and path, the 415 every
 * route with a body can answer, `text/event-stream` for the server-sent event routes
 * (`config.sse`), and no security requirement for the routes marked `config.public`.
 */
import { jsonSchemaTransform } from "fastify-type-provider-zod";

type TransformArgs = Parameters<typeof jsonSchemaTransform>[0];
type Schema = Record<string, unknown> & { response?: Record<string, unknown>; body?: unknown };

/**
 * The operation id of a route: the method, then each path segment, parameters as
 * `By<Name>`.
 *
 * @example
 * operationId("GET", "/v1/conversations/:id/messages"); // "getConversationsByIdMessages"
 */
export function operationId(method: string, url: string): string {
  const words = url
    .split("/")
    .filter((part) => part && part !== "v1")
    .map((part) => (part.startsWith(":") ? `By${cap(part.slice(1))}` : part.split(/[-_]/).map(cap).join("")));
  return method.toLowerCase() + words.join("");
}

const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

const errorBody = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
      required: ["code", "message"],
    },
  },
  required: ["error"],
};

/** `@fastify/swagger`'s `transform`: Zod to JSON Schema, then the completions above. */
export function completeOperation(args: TransformArgs): ReturnType<typeof jsonSchemaTransform> {
  const out = jsonSchemaTransform(args);
  const config = ((args.route as { config?: { sse?: boolean; public?: boolean } }).config ?? {}) as {
    sse?: boolean;
    public?: boolean;
  };
  const method = Array.isArray(args.route.method) ? args.route.method[0] : args.route.method;
  const schema = { ...(out.schema as Schema) };
  schema.operationId ??= operationId(String(method), args.url);
  const response = { ...(schema.response ?? {}) };
  if (schema.body !== undefined && response["415"] === undefined) {
    response["415"] = { ...errorBody, description: "The body is not application/json" };
  }
  if (config.sse) {
    response["200"] = {
      description: "A stream of server-sent events (`id:`, `event:`, `data:` JSON lines) until the end or the client leaves",
      content: { "text/event-stream": { schema: { type: "string" } } },
    };
  }
  if (config.public) schema.security = [];
  schema.response = response;
  return { ...out, schema };
}
