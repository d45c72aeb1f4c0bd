/**
 * The web app in Debian's Chromium against a real `convo serve` (spawned, serving the
 * built app), on PGlite and on PostgreSQL: sign-in, chat (stream, tools, regenerate,
 * stop, reload mid-answer, a second tab), the sidebar's operations over 10,000
 * conversations, dialog analytics against the API's numbers, and an axe-core scan of
 * every screen. Screenshots of each screen go to docs/screenshots (PGlite run).
 */
import { readFileSync } from "node:fs";
import type { Convo } from "@convo/core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engines } from "../../core/test/support/engines.js";
import { type AppServer, execute, launchChromium, SCREENSHOTS, seriousViolations, startAppServer } from "./support/app.js";

const DONE = "Set CONVO_MODEL to use a real model.";

/** expect.poll with room for a loaded machine (its default gives up after 1 s); no timing is asserted. */
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });

interface Seeded {
  anya: string;
  boris: string;
  scroller: string;
}

async function seed(convo: Convo, ids: Seeded): Promise<void> {
  ids.anya = (await convo.users.create({ externalId: "tg:1", displayName: "Аня" })).user.id;
  ids.boris = (await convo.users.create({ externalId: "tg:2", displayName: "Boris" })).user.id;
  ids.scroller = (await convo.users.create({ externalId: "tg:3", displayName: "Scroller" })).user.id;
  // Boris: three conversations, the newest active, with messages.
  for (const title of ["Trip to Kazan", "Sticker ideas", "Recipes"]) {
    const c = await convo.conversations.create(ids.boris, { title });
    await convo.messages.append(ids.boris, c.id, { role: "user", content: `About ${title}` });
  }
  // Scroller: 10,000 conversations (one statement; the API would take minutes), one a minute apart.
  await execute(
    convo,
    `INSERT INTO conversations (user_id, id, title, title_source, env, created_at, updated_at)
     SELECT '${ids.scroller}', gen_random_uuid(), 'Conversation ' || g, 'user', 'prod',
            now() - g * interval '1 minute', now() - g * interval '1 minute'
     FROM generate_series(1, 10000) AS g`,
  );
  await execute(convo, `INSERT INTO conversation_totals (user_id, env, total) VALUES ('${ids.scroller}', 'prod', 10000)`);
  // Dialogs for analytics, in prod and test.
  const dialogs: [string, string, Record<string, unknown>, "completed" | "abandoned" | "error" | null][] = [
    [
      "prod",
      ids.anya,
      { goal: "cat sticker", style: "anime", emotion: "joy", pose: "sitting", confirmed: true, currentStep: 7 },
      "completed",
    ],
    [
      "prod",
      ids.boris,
      { goal: "cat sticker", style: "anime", emotion: "anger", pose: "jump", confirmed: true, currentStep: 6 },
      "completed",
    ],
    [
      "prod",
      ids.scroller,
      { goal: "dog sticker", style: "pixel", emotion: "joy", pose: "run", confirmed: true, currentStep: 7 },
      "completed",
    ],
    ["prod", ids.anya, { goal: "cat sticker", style: "pixel", currentStep: 3 }, "abandoned"],
    ["prod", ids.boris, { goal: "logo", currentStep: 1 }, "error"],
    ["test", ids.scroller, { goal: "test goal", style: "anime", emotion: "joy", confirmed: true, currentStep: 7 }, "completed"],
  ];
  for (const [env, userId, update, status] of dialogs) {
    const d = await convo.dialogs.create(userId, { env });
    await convo.dialogs.update(userId, d.id, update);
    if (status) await convo.dialogs.close(userId, d.id, status);
  }
}

describe.each(engines)("web app on %s", (engine) => {
  let server: AppServer;
  let browser: Browser;
  const ids = {} as Seeded;
  const shots = engine === "pglite";

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      // Slow enough that a reload lands mid-answer; there is no timing assertion.
      startAppServer(engine, (convo) => seed(convo, ids), { env: { CONVO_OFFLINE_CHUNK_DELAY_MS: "60" } }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The API's JSON, as the admin key sees it. */
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
  const apiJson = async (path: string, token = server.adminKey): Promise<any> => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, path).toBe(200);
    return response.json();
  };

  async function newPage(context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext({ viewport: { width: 1200, height: 800 } }))).newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    return page;
  }

  async function signInWithToken(page: Page, userId: string) {
    await page.goto(server.url);
    await page.getByLabel("User token or admin key").fill(await server.token(userId));
    await page.getByRole("button", { name: "Sign in" }).click();
    // (At 360 px the sidebar is a drawer, hidden until opened.)
    await page.getByRole("button", { name: "Sign out" }).waitFor();
  }

  async function expectAccessible(page: Page, screen: string) {
    const violations = await seriousViolations(page);
    expect(violations, `${screen}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
  }

  const shot = async (page: Page, name: string) => {
    if (shots) await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname });
  };

  /** The text of the last assistant message once its answer is complete. */
  async function lastAnswer(page: Page): Promise<string> {
    const last = page.locator('li[data-role="assistant"]').last();
    await last.getByText(DONE, { exact: false }).waitFor();
    await page.getByRole("button", { name: "Regenerate" }).waitFor();
    return (await last.innerText()).trim();
  }

  it("signs in with an admin key, picks a user and draws the API's analytics (env and date filters, CSV)", async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByLabel("User token or admin key").waitFor();
    await expectAccessible(page, "sign-in");
    await shot(page, "sign-in.png");

    // A wrong credential is refused with the server's message, in place.
    await page.getByLabel("User token or admin key").fill("convo_sk_wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.getByRole("alert").innerText()).toContain("not valid");

    await page.getByLabel("User token or admin key").fill(server.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Choose a user" }).waitFor();
    await page.getByRole("button", { name: /Аня/ }).waitFor();
    await expectAccessible(page, "user picker");
    await shot(page, "user-picker.png");
    await page.getByRole("button", { name: /Аня/ }).click();
    await page.getByRole("navigation", { name: "Conversations" }).waitFor();

    await page.getByRole("link", { name: "Analytics" }).click();
    const funnelBars = page.locator('[data-report="funnel"] .recharts-bar-rectangle');
    await poll(() => funnelBars.count()).toBe(7);

    const check = async (query: string) => {
      const q = query ? `?${query}` : "";
      const [funnel, goals, styles, statuses, steps, combos] = await Promise.all(
        ["funnel", "goals", "styles", "statuses", "steps", "combos"].map((r) => apiJson(`/v1/analytics/assistant/${r}${q}`)),
      );
      const labels = (report: string) => page.locator(`[data-report="${report}"] .recharts-label-list text`).allTextContents();
      // Recharts draws no label on a zero-length bar: the drawn figures are the non-zero ones.
      const drawn = (values: number[]) => values.filter((v) => v > 0).map(String);
      const f = funnel.funnel;
      await poll(() => labels("funnel")).toEqual(
        drawn([f.started, f.setGoal, f.choseStyle, f.choseEmotion, f.chosePose, f.confirmed, f.completed]),
      );
      expect(await labels("goals")).toEqual(drawn(goals.goals.map((g: { count: number }) => g.count)));
      expect(await page.locator('[data-report="goals"] .recharts-bar-rectangle').count()).toBe(goals.goals.length);
      expect(await labels("styles")).toEqual(drawn(styles.styles.map((s: { count: number }) => s.count)));
      expect(await labels("statuses")).toEqual(drawn(Object.values(statuses.statuses) as number[]));
      expect(await page.getByTestId("average-step").innerText()).toContain(String(steps.steps.averageStep ?? "–"));
      expect(await page.locator('[data-report="combos"] .recharts-scatter-symbol').count()).toBe(combos.combos.length);
      expect((await labels("combos")).sort()).toEqual(combos.combos.map((c: { count: number }) => String(c.count)).sort());
      const statusRows = await page.locator('[data-report="statuses"] tbody tr').allTextContents();
      expect(statusRows).toEqual(Object.entries(statuses.statuses).map(([k, v]) => `${k}${v}`));
      // The tables hold the same figures as the charts.
      const goalRows = await page.locator('[data-report="goals"] tbody tr').allTextContents();
      expect(goalRows).toEqual(goals.goals.map((g: { goal: string; count: number }) => `${g.goal}${g.count}`));
      return { funnel: f, goals: goals.goals };
    };

    const all = await check("");
    expect(all.funnel.started).toBe(6); // the seeded dialogs, both envs
    await expectAccessible(page, "analytics");
    await shot(page, "analytics.png");

    await page.getByLabel("Env", { exact: true }).fill("prod");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(() => page.locator('[data-report="funnel"] .recharts-label-list text').first().textContent()).toBe("5");
    await check("env=prod");

    // A date range that ends before today holds nothing.
    await page.getByLabel("To", { exact: true }).fill("2020-01-31");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(() => page.locator('[data-report="goals"]').innerText()).toContain("No dialogs.");
    await page.getByLabel("To", { exact: true }).fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    const prod = await check("env=prod");

    // Each table downloads as CSV with the API's figures.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download Top goals as CSV" }).click(),
    ]);
    const csv = readFileSync((await download.path()) as string, "utf8").replace(/^\uFEFF/, "");
    expect(csv).toBe(
      `goal,dialogs\r\n${prod.goals.map((g: { goal: string; count: number }) => `${g.goal},${g.count}\r\n`).join("")}`,
    );
    await page.context().close();
  });

  it("chats: send → stream → done, reasoning, a tool card, safe Markdown, regenerate, stop; first-token time measured", async () => {
    const page = await newPage();
    await signInWithToken(page, ids.anya);
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    const conversationId = page.url().split("/c/")[1] as string;
    await page.getByLabel("Message").waitFor();

    // Time from pressing Enter to the first answer text on screen, measured in the page.
    await page.evaluate(() => {
      const w = window as unknown as { t0?: number; firstToken?: number };
      document.getElementById("composer")?.addEventListener("keydown", () => (w.t0 ??= performance.now()), { capture: true });
      new MutationObserver((_, observer) => {
        const text = document.querySelector('li[data-role="assistant"] .markdown')?.textContent ?? "";
        if (text.trim() && w.t0 !== undefined) {
          w.firstToken = performance.now() - w.t0;
          observer.disconnect();
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByLabel("Message").fill('Hello **there** <img src=x onerror="window.__xss=1">');
    await page.getByLabel("Message").press("Enter");
    const answer = await lastAnswer(page);
    expect(answer).toContain("You said:");
    const firstTokenMs = await page.evaluate(() => (window as unknown as { firstToken: number }).firstToken);
    expect(firstTokenMs).toBeGreaterThan(0);
    console.log(`[web ${engine}] send → first token on screen: ${firstTokenMs.toFixed(0)} ms`);
    // Markdown is rendered, raw HTML is not.
    const lastMessage = page.locator('li[data-role="assistant"]').last();
    expect(await lastMessage.locator("strong").count()).toBeGreaterThan(0);
    expect(await page.locator(".messages img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // Reasoning is there, collapsed.
    const reasoning = lastMessage.locator("details.reasoning");
    expect(await reasoning.getAttribute("open")).toBeNull();
    await reasoning.locator("summary").click();
    expect(await reasoning.innerText()).toContain("Offline mode");

    // A tool call: a card with name, arguments, result, success and the measured duration.
    await page.getByLabel("Message").fill("What time is it in UTC?");
    await page.getByRole("button", { name: "Send" }).click();
    const card = page.locator('.tool-card[data-tool="current_time"]');
    await card.waitFor();
    // The duration is read from the run's stored events once the answer is complete.
    await page.getByRole("button", { name: "Regenerate" }).waitFor();
    await poll(() => card.innerText()).toMatch(/succeeded[\s\S]*\d+ ms/);
    expect(await card.innerText()).toContain("Result");
    await card.getByText("Arguments").click();
    expect(await card.locator("pre").first().innerText()).toContain("UTC");
    await page.getByRole("button", { name: "Regenerate" }).waitFor();
    await expectAccessible(page, "chat");
    await shot(page, "chat.png");

    // Regenerate answers the same message again (a new run, so a new answer id): still one answer on screen for it.
    // While it runs, the replaced answer is gone and the last one on screen is an older
    // answer: wait for an id never seen before, then for that answer's own end.
    const assistants = page.locator('li[data-role="assistant"]');
    const before = await assistants.count();
    const seen = await assistants.evaluateAll((items) => items.map((li) => li.getAttribute("data-message-id")));
    await page.getByRole("button", { name: "Regenerate" }).click();
    await poll(() => assistants.last().getAttribute("data-message-id")).not.toBeOneOf(seen);
    await assistants.last().getByText("(UTC) now", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Regenerate" }).waitFor();
    expect(await assistants.count()).toBe(before);

    // Stop: the run is cancelled on the server, the partial answer stays, the page is usable.
    // The offline model echoes the message word by word: a long one keeps it answering long enough to stop.
    await page.getByLabel("Message").fill(`Tell me a long story please ${"and then ".repeat(150)}`);
    await page.getByLabel("Message").press("Enter");
    await page.locator('li[data-role="assistant"]').nth(before).locator(".markdown").waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("button", { name: "Regenerate" }).waitFor();
    // Cancelling is asked at once; the run's executor ends it a moment later.
    await poll(async () => (await apiJson(`/v1/conversations/${conversationId}/runs`)).runs[0].status).toBe("cancelled");
    expect(await page.locator('li[data-role="assistant"]').last().innerText()).not.toContain(DONE);

    // Dark theme, for the screenshot and the contrast check.
    await page.getByRole("button", { name: /^Theme:/ }).click(); // system → light
    await page.getByRole("button", { name: /^Theme:/ }).click(); // light → dark
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await expectAccessible(page, "chat (dark)");
    await shot(page, "chat-dark.png");
    await page.context().close();
  });

  it("reloads mid-answer: the answer resumes and completes once", async () => {
    const page = await newPage();
    await signInWithToken(page, ids.anya);
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.waitForURL(/\/c\//);
    const conversationId = page.url().split("/c/")[1] as string;
    await page.getByLabel("Message").fill(`Please answer slowly, I will reload ${"slowly ".repeat(100)}`);
    await page.getByLabel("Message").press("Enter");
    await page.locator('li[data-role="assistant"] .markdown').first().waitFor();
    expect(await page.locator('li[data-role="assistant"]').first().innerText()).not.toContain(DONE);
    await page.reload();
    const answer = await lastAnswer(page);
    expect(answer).toContain("Please answer slowly");
    expect(await page.locator('li[data-role="assistant"]').count()).toBe(1);
    expect(await page.locator('li[data-role="user"]').count()).toBe(1);
    const stored = await apiJson(`/v1/conversations/${conversationId}`);
    expect(stored.messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    await page.context().close();
  });

  it("follows one conversation live in a second tab", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const first = await newPage(context);
    await signInWithToken(first, ids.anya);
    await first.getByRole("button", { name: "New conversation" }).click();
    await first.waitForURL(/\/c\//);
    const second = await newPage(context);
    await second.goto(first.url());
    await second.getByLabel("Message").waitFor();
    // Let the second tab's live follow connect before the first one sends.
    await second.waitForTimeout(500);

    await first.getByLabel("Message").fill("Both tabs should see this");
    await first.getByLabel("Message").press("Enter");
    await second.locator('li[data-role="user"]').getByText("Both tabs should see this").waitFor();
    const inSecond = await lastAnswer(second);
    const inFirst = await lastAnswer(first);
    expect(inSecond).toBe(inFirst);
    expect(await second.locator('li[data-role="assistant"]').count()).toBe(1);
    expect(await second.locator('li[data-role="user"]').count()).toBe(1);
    await context.close();
  });

  it("sidebar: titles, badge, counts, times; new, rename (a 31-character title refused in place), close, delete — by keyboard", async () => {
    const page = await newPage();
    await signInWithToken(page, ids.boris);
    const sidebar = page.getByRole("navigation", { name: "Conversations" });
    const rows = sidebar.locator(".conversation");
    await poll(() => rows.count()).toBe(3);
    // Newest activity first, with the count and a relative time.
    expect(await sidebar.locator(".conversation-title").allInnerTexts()).toEqual(["Recipes", "Sticker ideas", "Trip to Kazan"]);
    expect(await rows.first().innerText()).toMatch(/active[\s\S]*1 message[\s\S]*(now|second|minute)/);
    expect(await sidebar.locator(".count").innerText()).toBe("3");

    await sidebar.getByRole("button", { name: "New conversation" }).click();
    await page.waitForURL(/\/c\//);
    const newId = page.url().split("/c/")[1] as string;
    await poll(() => sidebar.locator(".count").innerText()).toBe("4");
    expect(await rows.first().getAttribute("data-conversation-id")).toBe(newId);

    // Rename, with the keyboard only.
    await sidebar.getByRole("button", { name: "Rename Recipes" }).focus();
    await page.keyboard.press("Enter");
    const input = sidebar.getByLabel("New title");
    await poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await input.fill("x".repeat(31));
    await page.keyboard.press("Enter");
    const alert = sidebar.getByRole("alert");
    await alert.waitFor();
    const refused = await fetch(`${server.url}/v1/conversations/${newId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "x".repeat(31) }),
    });
    expect(refused.status).toBe(422);
    expect(await alert.innerText()).toBe((await refused.json()).error.message);
    await expectAccessible(page, "sidebar rename error");
    await shot(page, "rename-refused.png");
    await input.fill("Рецепты 🍲");
    await page.keyboard.press("Enter");
    await sidebar.getByText("Рецепты 🍲").waitFor();

    // Close: the badge goes, the conversation stays.
    const renamed = rows.filter({ hasText: "Рецепты 🍲" });
    expect(await renamed.locator(".badge").count()).toBe(1);
    await sidebar.getByRole("button", { name: "Close Рецепты 🍲" }).click();
    await poll(() => renamed.locator(".badge").count()).toBe(0);

    // Delete asks first; Escape keeps it, confirming deletes it.
    await sidebar.getByRole("button", { name: "Delete Sticker ideas" }).click();
    const dialog = page.getByRole("dialog", { name: /Delete “Sticker ideas”/ });
    await dialog.waitFor();
    await expectAccessible(page, "delete confirmation");
    await shot(page, "delete-confirm.png");
    await page.keyboard.press("Escape");
    await poll(() => dialog.count()).toBe(0);
    await sidebar.getByRole("button", { name: "Delete Sticker ideas" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await poll(() => sidebar.locator(".conversation-title").allInnerTexts()).not.toContain("Sticker ideas");
    expect(await sidebar.locator(".count").innerText()).toBe("3");

    // A conversation that is not there (deleted, or a wrong link) shows the server's error, not a blank page.
    await page.goto(`${server.url}/c/6f1c5a8e-2d7b-4c1e-9a3f-0b8d7e6c5a41`);
    await poll(() => page.getByRole("main").getByRole("alert").innerText()).toMatch(/not found/i);
    expect(await page.getByRole("navigation", { name: "Conversations" }).isVisible()).toBe(true);

    const list = await apiJson(`/v1/users/${ids.boris}/conversations`);
    expect(list.total).toBe(3);
    const titles = list.sessions.map((s: { title: string | null; status: string }) => [s.title, s.status]);
    expect(titles).toContainEqual(["Рецепты 🍲", "closed"]);
    expect(titles.map((t: string[]) => t[0])).not.toContain("Sticker ideas");
    await page.context().close();
  });

  it("10,000 conversations: a virtualised list fetched by cursor as it scrolls; usable at 360 px", async () => {
    const page = await newPage(await browser.newContext({ viewport: { width: 360, height: 740 } }));
    await signInWithToken(page, ids.scroller);
    // At 360 px the sidebar is a drawer behind the menu button; Escape closes it.
    const menu = page.getByRole("button", { name: "Show conversations" });
    const sidebar = page.getByRole("navigation", { name: "Conversations" });
    await menu.click();
    await sidebar.waitFor();
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("Escape");
    await sidebar.waitFor({ state: "hidden" });
    await menu.click();
    await poll(() => sidebar.locator(".count").innerText()).toBe("10,000");
    const rendered = () => sidebar.locator("li.conversation-row").count();
    expect(await rendered()).toBeLessThan(40);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expectAccessible(page, "sidebar at 360 px");
    await shot(page, "sidebar-360.png");

    // Scroll to the end a few times: pages of 50 come by cursor, the DOM stays small.
    const scroller = page.getByTestId("conversation-scroller");
    for (let pageNo = 1; pageNo <= 3; pageNo++) {
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await sidebar.getByText(`Conversation ${pageNo * 50 + 1}`, { exact: true }).waitFor();
    }
    expect(await rendered()).toBeLessThan(40);
    const positions = await sidebar
      .locator("li.conversation-row")
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute("aria-posinset"))));
    expect(Math.max(...positions)).toBeGreaterThan(150);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    // Opening one closes the drawer and shows the chat, still within 360 px.
    await sidebar.getByText("Conversation 151", { exact: true }).click();
    await page.getByLabel("Message").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expectAccessible(page, "chat at 360 px");
    await shot(page, "chat-360.png");
    await page.context().close();
  });
});

describe.each(engines)("web app on an open server (%s)", (engine) => {
  let server: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startAppServer(
        engine,
        async (convo) => {
          await convo.users.create({ externalId: "tg:9", displayName: "Вера" });
        },
        { open: true },
      ),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("offers the user picker with no credential; a new user can be created and opened", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(server.url);
    await page.getByText("This server is open").waitFor();
    await page.getByRole("button", { name: "Choose a user" }).click();
    await page.getByRole("button", { name: /Вера/ }).waitFor();
    await page.getByLabel("New user's name").fill("Новый");
    await page.getByRole("button", { name: "Create and open" }).click();
    await page.getByRole("navigation", { name: "Conversations" }).waitFor();
    expect(await page.locator(".who").innerText()).toBe("Новый");
    // An operator: analytics and switching users are offered.
    await page.getByRole("link", { name: "Analytics" }).waitFor();
    await page.getByRole("button", { name: "Switch user" }).click();
    await page.getByRole("button", { name: /Новый/ }).waitFor();
    await page.getByRole("button", { name: /Вера/ }).click();
    expect(await page.locator(".who").innerText()).toBe("Вера");
    await page.context().close();
  });
});
