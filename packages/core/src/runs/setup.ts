/** Wires the run machinery of one store: bus, executor, heartbeat and the service. */
import type { BackgroundErrorHandler } from "../background/types.js";
import type { LifecycleConfig } from "../config.js";
import type { Store } from "../store.js";
import { defaultRunsConfig, type RunsConfig } from "./config.js";
import { ConversationFeed } from "./conversation-feed.js";
import { RunExecutor } from "./executor.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { ModelRegistry, type ModelsOptions } from "./models.js";
import { RunEventBus } from "./notifier.js";
import type { RunContextLoader, RunHistorySearch, RunMessageWriter } from "./ports.js";
import { RunsService } from "./service.js";
import type { RunTools } from "./tools.js";

/**
 * Options of background runs (`openConvo({ runs: … })`); every field has a default,
 * see `RunsConfig` and docs/runs.md.
 *
 * @example
 * openConvo({ runs: { maxRunsPerUser: 2, models: { defaultModel: "openai:gpt-4o-mini" }, tools: { weather } } });
 */
export interface RunsOptions extends Partial<RunsConfig> {
  /** Model providers and the default model (by default from the environment). */
  models?: ModelsOptions;
  /** Tools besides the built-ins (`current_time`, `search_history`). */
  tools?: RunTools;
}

export function createRuns(parts: {
  store: Store;
  lifecycle: LifecycleConfig;
  messages: RunMessageWriter;
  context: RunContextLoader;
  history: RunHistorySearch;
  options?: RunsOptions;
  onError?: BackgroundErrorHandler;
}): { runs: RunsService; feed: ConversationFeed; models: ModelRegistry } {
  const { models: modelOptions, tools, ...settings } = parts.options ?? {};
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<RunsConfig>;
  const config: RunsConfig = { ...defaultRunsConfig(), ...defined };
  const onError = parts.onError ?? parts.store.background.report;
  const { store } = parts;
  const bus = new RunEventBus(store, onError);
  const models = new ModelRegistry(modelOptions);
  const executor = new RunExecutor({
    store,
    bus,
    config,
    models,
    tools,
    context: parts.context,
    history: parts.history,
    onError,
  });
  const leases = new LeaseKeeper(store, executor, config, onError);
  const feed = new ConversationFeed(store, bus, config.recheckMs);
  const runs = new RunsService({
    store,
    config,
    messages: parts.messages,
    models,
    bus,
    executor,
    leases,
    feed,
    lifecycle: parts.lifecycle,
    onError,
  });
  return { runs, feed, models };
}
