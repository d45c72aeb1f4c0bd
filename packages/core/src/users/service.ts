/** Use cases for users. */
import { LIMITS } from "@convo/protocol";
import { decodeCursor, keysetPage } from "../cursor.js";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import type { Page } from "../types.js";
import { assertJson, assertText, assertUuid, intInRange } from "../validation.js";
import { toUser, type User, type UserInput } from "./types.js";

function checkProfile(profile: unknown): Record<string, unknown> {
  if (profile === null || typeof profile !== "object" || Array.isArray(profile)) {
    throw new ValidationError("profile must be a JSON object", { field: "profile" });
  }
  return assertJson("profile", profile as Record<string, unknown>);
}

/**
 * Users (`convo.users`): the people your assistant talks to, keyed by the platform's
 * id. Every other use case takes the Convo user id this service hands out.
 *
 * @example
 * const { user, created } = await convo.users.create({ externalId: "tg:480637186", displayName: "Аня" });
 * if (created) await sendWelcome(user.id);
 * await convo.users.update(user.id, { profile: { language: "ru", timezone: "Europe/Moscow" } });
 */
export class UsersService {
  constructor(private readonly store: Store) {}

  /**
   * Creates a user. With an `externalId` that exists already, answers that user with
   * `created: false`, so a bot can call this on every first contact.
   */
  async create(input: UserInput = {}): Promise<{ user: User; created: boolean }> {
    const externalId = input.externalId == null ? null : assertText("externalId", input.externalId, { max: LIMITS.idLength });
    const displayName = input.displayName == null ? null : assertText("displayName", input.displayName, { max: LIMITS.idLength });
    const profile = input.profile === undefined ? {} : checkProfile(input.profile);
    return this.store.transaction(async (uow) => {
      const { row, created } = await uow.users.insertOrGet({ externalId, displayName, profile, now: uow.now });
      return { user: toUser(row), created };
    });
  }

  /** The user by Convo id; NotFoundError when there is none. */
  async get(userId: string): Promise<User> {
    const id = assertUuid("userId", userId);
    return this.store.statement(async (uow) => {
      const row = await uow.users.find(id);
      if (!row) throw new NotFoundError("user", id);
      return toUser(row);
    });
  }

  /**
   * A page of all users, newest first, with a keyset cursor: what an admin picks a user
   * from (the web app's sign-in).
   *
   * @example
   * const first = await convo.users.list({ limit: 50 });
   * const next = first.nextCursor ? await convo.users.list({ limit: 50, cursor: first.nextCursor }) : undefined;
   */
  async list(options: { limit?: number; cursor?: string } = {}): Promise<Page<User>> {
    const limit = intInRange("limit", options.limit, 1, 100, 50);
    const scope = "users";
    const at = options.cursor === undefined ? undefined : decodeCursor(scope, options.cursor, this.store.cursorSecret);
    return this.store.read(async (uow) => {
      const rows = await uow.users.page(limit, at && { createdAt: at.updatedAt, id: at.id });
      return keysetPage(rows.map(toUser), limit, scope, this.store.cursorSecret, (user) => user.createdAt);
    });
  }

  /** The user by the platform's id (e.g. `tg:480637186`); NotFoundError when there is none. */
  async getByExternalId(externalId: string): Promise<User> {
    assertText("externalId", externalId, { max: LIMITS.idLength });
    return this.store.statement(async (uow) => {
      const row = await uow.users.findByExternalId(externalId);
      if (!row) throw new NotFoundError("user", externalId);
      return toUser(row);
    });
  }

  /** Changes the given fields; `profile` is replaced whole. */
  async update(userId: string, patch: UserInput): Promise<User> {
    const id = assertUuid("userId", userId);
    const values: { displayName?: string | null; profile?: Record<string, unknown>; externalId?: string | null } = {};
    if (patch.displayName !== undefined) {
      values.displayName =
        patch.displayName === null ? null : assertText("displayName", patch.displayName, { max: LIMITS.idLength });
    }
    if (patch.externalId !== undefined) {
      values.externalId = patch.externalId === null ? null : assertText("externalId", patch.externalId, { max: LIMITS.idLength });
    }
    if (patch.profile !== undefined) values.profile = checkProfile(patch.profile);
    return this.store.transaction(async (uow) => {
      const row = await uow.users.update(id, values, uow.now);
      if (!row) throw new NotFoundError("user", id);
      return toUser(row);
    });
  }
}
