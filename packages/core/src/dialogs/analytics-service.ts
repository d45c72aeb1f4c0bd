/**
 * Dialog analytics (DESIGN.md §1.7): what operators ask of the sticker assistant —
 * top goals, top styles, the step funnel, average steps to confirmation, how dialogs
 * end, top style + emotion pairs. Each report can be narrowed to one `env` and to
 * dialogs created in `[from, to)`. Reports span all users (see the repository).
 */

import { ValidationError } from "../errors.js";
import type { Store } from "../store.js";
import { assertEnv, intInRange } from "../validation.js";
import type { AnalyticsRange, AssistantAnalyticsRepository, FunnelRow } from "./analytics-repository.js";
import type { DialogStatus } from "./types.js";

/** Which dialogs a report counts; all of them when empty. */
export interface DialogAnalyticsFilter {
  env?: string;
  /** Dialogs created at or after this instant (a Date or an ISO 8601 string). */
  from?: Date | string;
  /** Dialogs created before this instant. */
  to?: Date | string;
}

/** A filter for the top-N reports. */
export interface DialogTopFilter extends DialogAnalyticsFilter {
  /** Rows answered, 1–100 (default 20, as in the design). */
  limit?: number;
}

/** Dialogs reaching each step: started ≥ set goal ≥ … (not necessarily monotonic for imported data). */
export type DialogFunnel = FunnelRow;

export interface DialogStepStats {
  /** Mean `currentStep` of confirmed dialogs; null when there are none. */
  averageStep: number | null;
  /** Confirmed dialogs counted. */
  confirmed: number;
}

export interface GoalCount {
  goal: string;
  count: number;
}
export interface StyleCount {
  style: string | null;
  count: number;
}
export interface StyleEmotionCount {
  style: string | null;
  emotion: string | null;
  count: number;
}

/** Every report at once (`convo stats`). */
export interface DialogReport {
  goals: GoalCount[];
  styles: StyleCount[];
  funnel: DialogFunnel;
  steps: DialogStepStats;
  statuses: Record<DialogStatus, number>;
  combos: StyleEmotionCount[];
}

// Strings must be ISO 8601 with a zone (or a bare date, read as UTC midnight):
// Date.parse alone accepts "1" or "March 7", and reads a zoneless time as local time.
const ISO_DATE = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d))?$/;

function instant(field: string, value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = typeof value === "string" && ISO_DATE.test(value) ? new Date(value) : value;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} must be an ISO 8601 date-time`, { field });
  }
  return date;
}

/** Checks a filter; answers it with Dates. */
export function checkAnalyticsFilter(filter: DialogAnalyticsFilter = {}): AnalyticsRange {
  const range: AnalyticsRange = {
    env: filter.env === undefined ? undefined : assertEnv(filter.env),
    from: instant("from", filter.from),
    to: instant("to", filter.to),
  };
  if (range.from && range.to && range.from >= range.to) {
    throw new ValidationError("from must be before to", { field: "from" });
  }
  return range;
}

const limitOf = (filter: DialogTopFilter) => intInRange("limit", filter.limit, 1, 100, 20);

export class AssistantAnalyticsService {
  constructor(private readonly store: Store) {}

  // One read statement each; joins the caller's unit of work when there is one.
  #read<T>(fn: (repo: AssistantAnalyticsRepository) => Promise<T>): Promise<T> {
    return this.store.statement((uow) => fn(uow.dialogAnalytics));
  }

  /** The most frequent goals, most frequent first. */
  async goals(filter: DialogTopFilter = {}): Promise<GoalCount[]> {
    const range = checkAnalyticsFilter(filter);
    const limit = limitOf(filter);
    return this.#read((repo) => repo.goals(range, limit));
  }

  /** Styles of confirmed dialogs, most frequent first (all of them, as in the design). */
  async styles(filter: DialogAnalyticsFilter = {}): Promise<StyleCount[]> {
    const range = checkAnalyticsFilter(filter);
    return this.#read((repo) => repo.styles(range));
  }

  /** How many dialogs started, set a goal, chose a style, emotion, pose, confirmed, completed. */
  async funnel(filter: DialogAnalyticsFilter = {}): Promise<DialogFunnel> {
    const range = checkAnalyticsFilter(filter);
    return this.#read((repo) => repo.funnel(range));
  }

  /** The average `currentStep` of confirmed dialogs. */
  async steps(filter: DialogAnalyticsFilter = {}): Promise<DialogStepStats> {
    const range = checkAnalyticsFilter(filter);
    return this.#read((repo) => repo.steps(range));
  }

  /** Dialogs per status (every status present, 0 when none). */
  async statuses(filter: DialogAnalyticsFilter = {}): Promise<Record<DialogStatus, number>> {
    const range = checkAnalyticsFilter(filter);
    return this.#read(async (repo) => {
      const counts: Record<DialogStatus, number> = { active: 0, completed: 0, abandoned: 0, error: 0 };
      for (const row of await repo.statuses(range)) counts[row.status as DialogStatus] = row.count;
      return counts;
    });
  }

  /** The most frequent style + emotion pairs of confirmed dialogs. */
  async combos(filter: DialogTopFilter = {}): Promise<StyleEmotionCount[]> {
    const range = checkAnalyticsFilter(filter);
    const limit = limitOf(filter);
    return this.#read((repo) => repo.combos(range, limit));
  }

  /** All six reports over one filter. */
  async report(filter: DialogTopFilter = {}): Promise<DialogReport> {
    return {
      goals: await this.goals(filter),
      styles: await this.styles(filter),
      funnel: await this.funnel(filter),
      steps: await this.steps(filter),
      statuses: await this.statuses(filter),
      combos: await this.combos(filter),
    };
  }
}
