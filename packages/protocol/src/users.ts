import { z } from "zod";
import { ClientId, IsoTime, QueryInt, Uuid } from "./common.js";

const Profile = z.record(z.string(), z.unknown()).describe("Free-form JSON object");

export const User = z
  .object({
    id: Uuid,
    externalId: z.string().nullable(),
    displayName: z.string().nullable(),
    profile: Profile,
    createdAt: IsoTime,
    updatedAt: IsoTime,
  })
  .describe("User");

export const CreateUserBody = z.strictObject({
  externalId: ClientId.nullable().optional().describe("The platform's id, e.g. a Telegram user id"),
  displayName: ClientId.nullable().optional(),
  profile: Profile.optional(),
});

export const PatchUserBody = CreateUserBody;

export const ListUsersQuery = z.strictObject({
  limit: QueryInt(1, 100).optional(),
  cursor: z.string().max(400).optional(),
});

export const UserList = z.object({ users: z.array(User), hasMore: z.boolean(), nextCursor: z.string().nullable() });

// The types of the schemas above, for handlers and clients.
export type User = z.infer<typeof User>;
export type CreateUserBody = z.infer<typeof CreateUserBody>;
export type PatchUserBody = z.infer<typeof PatchUserBody>;
export type ListUsersQuery = z.infer<typeof ListUsersQuery>;
export type UserList = z.infer<typeof UserList>;
