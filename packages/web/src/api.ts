/**
 * The app's one door to the API: `fetch` with the signed-in credential, JSON in and
 * out, and the API's `{ error: { code, message } }` turned into an `ApiError`.
 * (A stand-in until `@convo/client` is there.)
 */

/** An error answer of the API, or a request that never got one (`code` NETWORK). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }
}

let credential: string | undefined;

/** Sets the Bearer credential (admin key or end-user token) every later call sends. */
export function setCredential(value: string | undefined): void {
  credential = value;
}

/** The Authorization header for the current credential (none on an open server). */
export function authHeaders(): Record<string, string> {
  return credential ? { authorization: `Bearer ${credential}` } : {};
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** A credential for this call only (sign-in checks one before keeping it). */
  credential?: string | null;
}

/**
 * Calls the API and answers the parsed JSON (undefined for 204).
 *
 * @example
 * const page = await api<ConversationList>(`/v1/users/${userId}/conversations?limit=50`);
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> =
    options.credential === undefined
      ? authHeaders()
      : options.credential
        ? { authorization: `Bearer ${options.credential}` }
        : {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "NETWORK", "The server cannot be reached", undefined, { cause });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch (cause) {
    throw new ApiError(
      response.status,
      "BAD_RESPONSE",
      `The server answered ${response.status} with something that is not JSON`,
      undefined,
      {
        cause,
      },
    );
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? "HTTP_ERROR", error?.message ?? `HTTP ${response.status}`, error?.details);
  }
  return json as T;
}

/** The message to show for any failure. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface User {
  id: string;
  externalId: string | null;
  displayName: string | null;
  createdAt: string;
}

export interface UserList {
  users: User[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface Conversation {
  id: string;
  userId: string;
  title: string | null;
  env: string;
  status: "active" | "inactive" | "closed";
  isActive: boolean;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface ConversationList {
  sessions: Conversation[];
  hasMore: boolean;
  total: number;
  nextCursor: string | null;
}

export interface StoredMessage {
  id: string;
  conversationId: string;
  seq: number;
  role: "user" | "assistant" | "system" | "tool";
  content: string;
  noise?: boolean;
  createdAt: string;
}

export interface ConversationDetail extends Conversation {
  messages: StoredMessage[];
  hasMoreMessages: boolean;
}
