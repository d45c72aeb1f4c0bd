/**
 * Type tests of the public SDK: `tsc` checks them (npm run typecheck covers the tests),
 * and vitest runs them as no-ops. Answers are the protocol's types; bodies are checked.
 */
import type { EventPage, Message, RunEvent, RunRecord, StartRunResponse, User } from "@convo/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { type ConvoApiError, type ConvoClient, createConvoClient, type PendingRun } from "../src/index.js";

describe("@convo/client types", () => {
  it("answers the protocol's types", () => {
    const convo: ConvoClient = createConvoClient({ baseUrl: "http://127.0.0.1:8787", token: () => "key" });
    expectTypeOf(convo.users.get).returns.resolves.toEqualTypeOf<User>();
    expectTypeOf(convo.messages.append).returns.resolves.toEqualTypeOf<Message>();
    expectTypeOf(convo.runs.start).returns.resolves.toEqualTypeOf<StartRunResponse>();
    expectTypeOf(convo.runs.get).returns.resolves.toEqualTypeOf<RunRecord>();
    expectTypeOf(convo.runs.events).returns.resolves.toEqualTypeOf<EventPage>();
    expectTypeOf(convo.runs.follow).returns.toEqualTypeOf<AsyncGenerator<RunEvent, void, unknown>>();
    expectTypeOf(convo.runs.pending).returns.toEqualTypeOf<PendingRun[]>();
    expectTypeOf(convo.analytics.report<"funnel">).returns.resolves.toHaveProperty("funnel");
    expectTypeOf<ConvoApiError["code"]>().toEqualTypeOf<string>();
    expectTypeOf<ConvoApiError>().toMatchTypeOf<Error>();
  });

  it("checks what is sent", () => {
    const convo = createConvoClient();
    expectTypeOf(convo.messages.append).parameter(1).toHaveProperty("role");
    expectTypeOf(convo.runs.start).parameter(1).toMatchTypeOf<{ content: string } | { messageId: string }>();
    // @ts-expect-error a role the API does not know
    void (() => convo.messages.append("id", { role: "robot", content: "hi" }));
    // @ts-expect-error content (or the id of a stored message) is required to start a run
    void (() => convo.runs.start("id", {}));
    // @ts-expect-error the signal goes in the options, not the body
    void (() => convo.runs.get("id", { signal: 1 }));
    expectTypeOf(convo.runs.follow).parameter(1).exclude<undefined>().toHaveProperty("signal");
  });
});
