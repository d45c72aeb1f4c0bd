/**
 * Response serialisation. The routes' Zod response schemas are the wire contract (the
 * OpenAPI document and the client's types come from them); checking every response
 * against them again at run time cost more CPU than the handler itself (a copy of the
 * result with its Dates as strings, then a Zod encode of that copy, for every
 * response). So by default a response is `JSON.stringify`ed as it is — a Date becomes
 * its ISO 8601 string through `Date.prototype.toJSON`, exactly what the schemas say.
 *
 * With `validate` (the test suites turn it on through `CONVO_VALIDATE_RESPONSES=true`),
 * every response is also checked against its schema, strictly: a value the schema does
 * not allow or would strip (an extra field) fails the request with a 500, so a route
 * can never send more than its contract in production, where nothing strips.
 */
import { isDeepStrictEqual } from "node:util";
import { $ZodType, safeEncode } from "zod/v4/core";

/** A serializer compiler for Fastify's `setSerializerCompiler`. */
type SerializerCompiler = (route: { schema: unknown; method: string; url: string }) => (data: unknown) => string;

const plain: SerializerCompiler = () => (data) => JSON.stringify(data);

/** The Zod schema of a route's response, if it has one. */
function zodSchema(schema: unknown): $ZodType | undefined {
  if (schema instanceof $ZodType) return schema;
  const properties = (schema as { properties?: unknown } | null)?.properties;
  return properties instanceof $ZodType ? properties : undefined;
}

/** The response of `method url` does not match its schema (a bug in the route, not in the request). */
export class ResponseContractError extends Error {
  readonly code = "RESPONSE_CONTRACT";
  constructor(method: string, url: string, detail: string, options?: { cause?: unknown }) {
    super(`the response of ${method} ${url} breaks its schema: ${detail}`, options);
    this.name = "ResponseContractError";
  }
}

/**
 * The serializer compiler: plain `JSON.stringify`, or with `validate` also a strict
 * check against the route's Zod response schema.
 *
 * @example
 * app.setSerializerCompiler(responseSerializer({ validate: process.env.CONVO_VALIDATE_RESPONSES === "true" }));
 */
export function responseSerializer(options: { validate: boolean }): SerializerCompiler {
  if (!options.validate) return plain;
  return ({ schema, method, url }) => {
    const zod = zodSchema(schema);
    if (!zod) return (data) => JSON.stringify(data);
    return (data) => {
      const json = JSON.stringify(data);
      // What a client receives, checked as the client would parse it.
      const sent: unknown = json === undefined ? undefined : JSON.parse(json);
      const result = safeEncode(zod, sent);
      if (result.error) throw new ResponseContractError(method, url, result.error.message, { cause: result.error });
      if (!isDeepStrictEqual(result.data, sent)) {
        throw new ResponseContractError(method, url, "it holds fields or values the schema would change or strip");
      }
      return json;
    };
  };
}
