export { extractiveSummary } from "./extractive.js";
export { modelSummarizer } from "./model-summarizer.js";
export { MAX_SUMMARY_INPUT_MESSAGES, SummariesRepository } from "./repository.js";
export { SummariesService, type SummariesServiceOptions, SummaryFailedError } from "./service.js";
export {
  MAX_SUMMARY_LENGTH,
  type RollingSummary,
  type SummariesOptions,
  type SummarizeResult,
  type Summarizer,
  type SummaryInput,
} from "./types.js";
