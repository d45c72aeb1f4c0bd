/**
 * The app's door to the API: `@convo/client` with the signed-in credential, and the
 * protocol's types under the names the app uses.
 */
import { ConvoApiError, type ConvoClient, createConvoClient } from "@convo/client";

export type {
  ConversationDetail,
  ConversationList,
  ConversationSummary as Conversation,
  Message as StoredMessage,
  User,
  UserList,
} from "@convo/client";
export { ConvoApiError };

let credential: string | undefined;

/** Sets the Bearer credential (admin key or end-user token) every later call sends. */
export function setCredential(value: string | undefined): void {
  credential = value;
}

/** The Authorization header for the current credential (none on an open server), for `useChat`'s transport. */
export function authHeaders(): Record<string, string> {
  return credential ? { authorization: `Bearer ${credential}` } : {};
}

/**
 * The client every screen uses; it reads the credential at each call.
 *
 * @example
 * const page = await convo.conversations.list(userId, { limit: 50 });
 */
export const convo: ConvoClient = createConvoClient({ token: () => credential });

/** A client for one given credential, or none (sign-in checks a credential before keeping it). */
export const clientFor = (token: string | null): ConvoClient =>
  createConvoClient({ token: token ?? undefined, retry: { retries: 0 } });

/** The message to show for any failure (an expired or revoked credential says what to do). */
export function describeError(error: unknown): string {
  if (error instanceof ConvoApiError && error.status === 401) return `${error.message}: sign out and sign in again`;
  if (error instanceof Error) return error.message;
  return String(error);
}
