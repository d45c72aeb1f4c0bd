import { describe, expect, it } from "vitest";
import { type LegacySessionRow, mapLegacyRow, LEGACY_SKIP_REASONS as R } from "../src/index.js";

const now = new Date("2026-02-08T12:00:00Z");
const base: LegacySessionRow = {
  id: "6f1c1d9e-0000-4000-8000-000000000001",
  user_id: "6f1c1d9e-0000-4000-8000-0000000000aa",
  assistant_messages: null,
  assistant_params: null,
  assistant_error_count: null,
  pending_photo_file_id: null,
  created_at: new Date("2025-11-01T10:00:00Z"),
  updated_at: new Date("2025-11-01T10:05:00Z"),
};
const map = (row: Partial<LegacySessionRow>) => mapLegacyRow({ ...base, ...row }, now);
const reason = (row: Partial<LegacySessionRow>) => {
  const mapped = map(row);
  return mapped.ok ? "imported" : mapped.reason;
};

describe("a legacy sessions row as a dialog", () => {
  it("maps params, recovers the goal from the first user message, and derives the status", () => {
    const mapped = map({
      assistant_messages: [
        { role: "assistant", content: "Goal?", ts: 1 },
        { role: "user", content: " a cat sticker " },
        { role: "model", content: "Style?" },
      ],
      assistant_params: { style: "anime", emotion: " ", pose: "wave", text: "Meow", confirmed: true, step: 9, extra: 1 },
    });
    expect(mapped).toEqual({
      ok: true,
      dialog: expect.objectContaining({
        importKey: `legacy:sessions:${base.id}`,
        goal: "a cat sticker",
        style: "anime",
        emotion: null,
        stickerText: "Meow",
        currentStep: 7,
        status: "completed",
        completedAt: base.updated_at,
        messages: [
          { role: "assistant", content: "Goal?" },
          { role: "user", content: " a cat sticker " },
          { role: "assistant", content: "Style?" },
        ],
      }),
    });
  });

  it("derives error and abandoned statuses, and stands in for missing times", () => {
    const errored = map({ assistant_error_count: 3, created_at: null, updated_at: null });
    expect(errored).toMatchObject({ ok: true, dialog: { status: "error", createdAt: now, updatedAt: now, completedAt: null } });
    expect(map({ assistant_params: { step: "2" } })).toMatchObject({ ok: true, dialog: { status: "abandoned", currentStep: 2 } });
  });

  it("decodes double-encoded JSON once", () => {
    const mapped = map({ assistant_messages: JSON.stringify([{ role: "user", content: "hi" }]) });
    expect(mapped).toMatchObject({ ok: true, dialog: { goal: "hi" } });
  });

  it("skips what is not a dialog or cannot be stored, with the reason", () => {
    expect(reason({})).toBe(R.noData);
    expect(reason({ assistant_messages: [], assistant_params: {}, assistant_error_count: 0 })).toBe(R.noData);
    expect(reason({ user_id: null, assistant_error_count: 1 })).toBe(R.noUser);
    expect(reason({ user_id: "user-42", assistant_error_count: 1 })).toBe(R.badUser);
    expect(reason({ assistant_messages: "{oops" })).toBe(R.messagesNotJson);
    expect(reason({ assistant_messages: { 0: "a" } })).toBe(R.messagesNotArray);
    expect(reason({ assistant_messages: [null] })).toBe(R.messageShape);
    expect(reason({ assistant_params: "[1]" })).toBe(R.paramsNotObject);
    expect(reason({ assistant_params: { confirmed: "yes" } })).toBe(R.paramType);
    expect(reason({ assistant_params: { step: "two" } })).toBe(R.stepNotInteger);
    expect(reason({ assistant_params: { step: true } })).toBe(R.stepNotInteger);
    expect(reason({ assistant_error_count: "many" })).toBe(R.errorCount);
    expect(reason({ pending_photo_file_id: 5 })).toBe(R.photoNotText);
    expect(reason({ assistant_messages: [{ role: "user", content: "a\u0000" }] })).toBe(R.nul);
    expect(reason({ assistant_params: { text: "\udc00" } })).toBe(R.surrogate);
  });
});
