/**
 * The script of the browser test's page: a minimal chat page on @convo/client that
 * starts a run, shows its answer as it streams, and on load resumes every run left
 * pending by a previous load (replayed from the start: the reload lost what was shown).
 */
import { createConvoClient, localStoragePendingRuns, type RunEvent } from "../../src/index.js";

// The few DOM pieces the page uses, typed here: the project compiles without DOM types.
interface Page {
  location: { hash: string; origin: string };
  document: { getElementById(id: string): { textContent: string | null } | null; body: { dataset: Record<string, string> } };
}
const { location, document } = globalThis as unknown as Page;

const params = new URLSearchParams(location.hash.slice(1));
const conversationId = params.get("conversation") as string;
const convo = createConvoClient({
  baseUrl: location.origin,
  token: params.get("token") as string,
  pendingRuns: localStoragePendingRuns("convo-test"),
  retry: { minDelayMs: 50, maxDelayMs: 500 },
});
const answer = document.getElementById("answer")!;
const log = document.getElementById("log")!;

async function show(events: AsyncIterable<RunEvent>): Promise<void> {
  for await (const event of events) {
    if (event.type === "delta") answer.textContent += event.content ?? "";
    if (event.type === "done" || event.type === "error" || event.type === "cancelled") {
      log.textContent += `${event.type} ${event.runId}\n`;
      document.body.dataset.status = event.type;
    }
  }
}

Object.assign(globalThis, {
  startRun: async (content: string) => {
    const { runId } = await convo.runs.start(conversationId, { content });
    document.body.dataset.runId = runId;
    await show(convo.runs.follow(runId, { conversationId }));
  },
});

for (const { events } of convo.runs.resumePending({ from: "start" })) void show(events);
document.body.dataset.ready = "yes";
