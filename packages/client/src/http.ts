/**
 * One request to the API: credentials, JSON in and out, typed errors, and retries with
 * backoff for requests that are safe to repeat (reads, deletes, and writes made
 * idempotent by a `clientMessageId` or by their nature).
 */
import { backoffDelay, type RetryOptions, sleep } from "./backoff.js";
import { ConvoApiError, isAbort } from "./errors.js";

/** A bearer credential: an admin API key or an end-user token, or a function answering one (refreshed tokens). */
export type Credential = string | (() => string | undefined | Promise<string | undefined>);

export interface HttpOptions {
  /** Where the API is, e.g. `https://convo.example.com` (default: the page's origin in a browser). */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer …`; omit it when a cookie or a proxy authenticates. */
  token?: Credential;
  /** Headers sent with every request (e.g. `X-Convo-User-Id` for an admin key acting for a user). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** `credentials` of every request (browser cookies), default `same-origin`. */
  credentials?: RequestInit["credentials"];
  /** Retries of failed idempotent requests. */
  retry?: RetryOptions;
}

export interface RequestOptions {
  /** Ends the request (and its retries) early. */
  signal?: AbortSignal;
}

export interface Call extends RequestOptions {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again after a failure (the default for GET, PUT and DELETE). */
  idempotent?: boolean;
}

/** Statuses worth another try: rate limited, and the gateway or database being away for a moment. */
const RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);

/** The raw answer of a call, for the few routes that need headers or a stream. */
export interface RawAnswer {
  response: Response;
}

export class Http {
  readonly #fetch: typeof fetch;

  constructor(readonly options: HttpOptions) {
    // Bound: a browser's fetch throws "Illegal invocation" when called as a method.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The absolute URL of `path` with `query`. */
  url(path: string, query?: Call["query"]): string {
    // The page's origin in a browser (read from globalThis: the package compiles without DOM types).
    const base = this.options.baseUrl ?? (globalThis as { location?: { origin: string } }).location?.origin ?? "";
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${base.replace(/\/$/, "")}${path}${search ? `?${search}` : ""}`;
  }

  /** The headers of a request: defaults, credential, then the call's own. */
  async headers(extra?: Record<string, string>): Promise<Record<string, string>> {
    const headers: Record<string, string> = { ...this.options.headers };
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    return { ...headers, ...extra };
  }

  /** Sends `call` once (no retry) and answers the response, whatever its status. */
  async send(call: Call): Promise<Response> {
    const headers = await this.headers(call.headers);
    let body: string | undefined;
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.body);
    }
    try {
      return await this.#fetch(this.url(call.path, call.query), {
        method: call.method,
        headers,
        body,
        signal: call.signal,
        credentials: this.options.credentials ?? "same-origin",
      });
    } catch (error) {
      if (isAbort(error, call.signal)) throw error;
      throw new ConvoApiError(
        "NETWORK_ERROR",
        0,
        `${call.method} ${call.path}: no answer (${(error as Error).message})`,
        undefined,
        {
          cause: error,
        },
      );
    }
  }

  /** Sends `call`, retrying when it is idempotent, and answers its JSON (undefined for 204). */
  async json<T>(call: Call): Promise<T> {
    const response = await this.ok(call);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (cause) {
      throw new ConvoApiError("BAD_RESPONSE", response.status, `${call.method} ${call.path}: the answer is not JSON`, undefined, {
        cause,
      });
    }
  }

  /** Sends `call` with retries and answers the successful response (an error status throws). */
  async ok(call: Call): Promise<Response> {
    const idempotent = call.idempotent ?? ["GET", "PUT", "DELETE", "HEAD"].includes(call.method);
    const retries = idempotent ? (this.options.retry?.retries ?? 3) : 0;
    for (let attempt = 0; ; attempt++) {
      let failure: ConvoApiError;
      let wait: number | undefined;
      try {
        const response = await this.send(call);
        if (response.ok) return response;
        failure = await errorOf(call, response);
        if (!RETRY_STATUSES.has(response.status)) throw failure;
        const after = Number(response.headers.get("retry-after"));
        if (Number.isFinite(after) && after > 0) wait = after * 1000;
      } catch (error) {
        if (isAbort(error, call.signal) || !(error instanceof ConvoApiError) || error.status !== 0) throw error;
        failure = error;
      }
      if (attempt >= retries) throw failure;
      await sleep(wait ?? backoffDelay(attempt + 1, this.options.retry), call.signal);
    }
  }
}

/** The typed error of a failed response, from the API's `{ error: { code, message, details } }`. */
export async function errorOf(call: Pick<Call, "method" | "path">, response: Response): Promise<ConvoApiError> {
  const requestId = response.headers.get("x-request-id") ?? undefined;
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  if (error && typeof error.code === "string") {
    return new ConvoApiError(error.code, response.status, String(error.message ?? error.code), error.details, { requestId });
  }
  return new ConvoApiError(
    `HTTP_${response.status}`,
    response.status,
    `${call.method} ${call.path}: HTTP ${response.status}`,
    undefined,
    {
      requestId,
    },
  );
}
