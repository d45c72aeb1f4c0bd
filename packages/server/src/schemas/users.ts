import { z } from "zod";
import { IsoTime, QueryInt, Uuid } from "./common.js";

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
  externalId: z.string().max(200).nullable().optional().describe("The platform's id, e.g. a Telegram user id"),
  displayName: z.string().max(200).nullable().optional(),
  profile: Profile.optional(),
});

export const PatchUserBody = CreateUserBody;

export const ListUsersQuery = z.strictObject({
  limit: QueryInt(1, 100).optional(),
  cursor: z.string().max(400).optional(),
});

export const UserList = z.object({ users: z.array(User), hasMore: z.boolean(), nextCursor: z.string().nullable() });
