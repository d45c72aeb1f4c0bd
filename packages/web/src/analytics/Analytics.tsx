/**
 * Dialog analytics (operators only): the API's six reports for an env and a date
 * range, each drawn (Recharts) and listed in a table with its CSV. The figures are
 * the API's as they come: nothing is recomputed here.
 */
import { type FormEvent, useEffect, useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell as ChartCell,
  LabelList,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from "recharts";
import { convo, describeError } from "../api";
import { type Cell, downloadCsv, toCsv } from "./csv";
import { analyticsQuery, type Filter } from "./query";

interface Report {
  goals: { goal: string; count: number }[];
  styles: { style: string | null; count: number }[];
  funnel: Record<FunnelKey, number>;
  statuses: Record<string, number>;
  steps: { averageStep: number | null; confirmed: number };
  combos: { style: string | null; emotion: string | null; count: number }[];
}

type FunnelKey = "started" | "setGoal" | "choseStyle" | "choseEmotion" | "chosePose" | "confirmed" | "completed";
const FUNNEL: [FunnelKey, string][] = [
  ["started", "Started"],
  ["setGoal", "Set goal"],
  ["choseStyle", "Chose style"],
  ["choseEmotion", "Chose emotion"],
  ["chosePose", "Chose pose"],
  ["confirmed", "Confirmed"],
  ["completed", "Completed"],
];

const NONE = "(none)";
const label = (value: string | null) => value ?? NONE;

async function loadReport(filter: Filter, signal: AbortSignal): Promise<Report> {
  const query = analyticsQuery(filter);
  const [goals, styles, funnel, statuses, steps, combos] = await Promise.all([
    convo.analytics.report("goals", query, { signal }),
    convo.analytics.report("styles", query, { signal }),
    convo.analytics.report("funnel", query, { signal }),
    convo.analytics.report("statuses", query, { signal }),
    convo.analytics.report("steps", query, { signal }),
    convo.analytics.report("combos", query, { signal }),
  ]);
  return { ...goals, ...styles, ...funnel, ...statuses, ...steps, ...combos };
}

export default function Analytics() {
  const [draft, setDraft] = useState<Filter>({ env: "", from: "", to: "" });
  const [filter, setFilter] = useState<Filter>(draft);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    loadReport(filter, abort.signal).then(setReport, (caught) => {
      if (!abort.signal.aborted) setError(describeError(caught));
    });
    return () => abort.abort();
  }, [filter]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...draft });
  };

  return (
    <section className="analytics" aria-labelledby="analytics-title">
      <h1 id="analytics-title">Dialog analytics</h1>
      <form className="filters" onSubmit={apply} aria-label="Filters">
        <label>
          Env
          <input
            list="envs"
            value={draft.env}
            placeholder="all"
            onChange={(e) => setDraft({ ...draft, env: e.target.value })}
            maxLength={32}
          />
          <datalist id="envs">
            <option value="prod" />
            <option value="test" />
          </datalist>
        </label>
        <label>
          From
          <input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit" className="primary">
          Apply
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!report && !error && <p className="muted">Loading…</p>}
      {report && <Reports report={report} />}
    </section>
  );
}

function Reports({ report }: { report: Report }) {
  const funnel = FUNNEL.map(([key, name]) => ({ name, count: report.funnel[key] }));
  const goals = report.goals.map((g) => ({ name: g.goal, count: g.count }));
  const styles = report.styles.map((s) => ({ name: label(s.style), count: s.count }));
  const statuses = Object.entries(report.statuses).map(([name, count]) => ({ name, count }));
  return (
    <div className="report-grid">
      <Panel id="funnel" title="Funnel" header={["step", "dialogs"]} rows={funnel.map((r) => [r.name, r.count])}>
        <Bars data={funnel} />
      </Panel>
      <Panel id="goals" title="Top goals" header={["goal", "dialogs"]} rows={goals.map((r) => [r.name, r.count])}>
        <Bars data={goals} />
      </Panel>
      <Panel id="styles" title="Top styles (confirmed)" header={["style", "dialogs"]} rows={styles.map((r) => [r.name, r.count])}>
        <Bars data={styles} />
      </Panel>
      <Panel id="statuses" title="Statuses" header={["status", "dialogs"]} rows={statuses.map((r) => [r.name, r.count])}>
        <Bars data={statuses} />
      </Panel>
      <Panel
        id="steps"
        title="Steps to confirmation"
        header={["measure", "value"]}
        rows={[
          ["average step", report.steps.averageStep],
          ["confirmed dialogs", report.steps.confirmed],
        ]}
      >
        <p className="big-figure" data-testid="average-step">
          {report.steps.averageStep === null ? "–" : report.steps.averageStep}
          <span className="muted small"> average step over {report.steps.confirmed} confirmed</span>
        </p>
      </Panel>
      <Panel
        id="combos"
        title="Style × emotion"
        header={["style", "emotion", "dialogs"]}
        rows={report.combos.map((c) => [label(c.style), label(c.emotion), c.count])}
      >
        <HeatMap combos={report.combos} />
      </Panel>
    </div>
  );
}

function Panel(props: { id: string; title: string; header: string[]; rows: Cell[][]; children: React.ReactNode }) {
  const { id, title, header, rows } = props;
  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-report={id}>
      <header className="row">
        <h2 id={`${id}-title`}>{title}</h2>
        <button
          type="button"
          onClick={() => downloadCsv(`convo-${id}.csv`, toCsv(header, rows))}
          aria-label={`Download ${title} as CSV`}
        >
          CSV
        </button>
      </header>
      {rows.length === 0 ? <p className="muted">No dialogs.</p> : <div className="chart">{props.children}</div>}
      <details>
        <summary>Table</summary>
        <table>
          <thead>
            <tr>
              {header.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.join("\u0000")}>
                {row.map((value, i) => (
                  <td key={header[i]}>{value ?? ""}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function Bars({ data }: { data: { name: string; count: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height={Math.max(120, data.length * 32 + 20)}>
      <BarChart data={data} layout="vertical" margin={{ left: 8, right: 40, top: 4, bottom: 4 }} accessibilityLayer>
        <CartesianGrid horizontal={false} strokeOpacity={0.3} />
        <XAxis type="number" allowDecimals={false} hide />
        <YAxis type="category" dataKey="name" width={110} tick={{ fill: "currentColor", fontSize: 12 }} />
        <Tooltip cursor={{ fillOpacity: 0.1 }} contentStyle={{ background: "var(--bg)", color: "var(--fg)" }} />
        <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false}>
          <LabelList dataKey="count" position="right" className="bar-value" fill="currentColor" />
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

function HeatMap({ combos }: { combos: Report["combos"] }) {
  const styles = [...new Set(combos.map((c) => label(c.style)))];
  const emotions = [...new Set(combos.map((c) => label(c.emotion)))];
  const max = Math.max(1, ...combos.map((c) => c.count));
  const data = combos.map((c) => ({ x: label(c.style), y: label(c.emotion), count: c.count }));
  const cell = 36;
  return (
    <ResponsiveContainer width="100%" height={emotions.length * cell + 70}>
      <ScatterChart margin={{ left: 8, right: 16, top: 8, bottom: 8 }} accessibilityLayer>
        <XAxis
          type="category"
          dataKey="x"
          name="style"
          allowDuplicatedCategory={false}
          tick={{ fill: "currentColor", fontSize: 12 }}
        />
        <YAxis
          type="category"
          dataKey="y"
          name="emotion"
          allowDuplicatedCategory={false}
          width={90}
          tick={{ fill: "currentColor", fontSize: 12 }}
        />
        <ZAxis type="number" dataKey="count" range={[cell * cell, cell * cell]} />
        <Tooltip cursor={false} contentStyle={{ background: "var(--bg)", color: "var(--fg)" }} />
        <Scatter data={data} shape="square" isAnimationActive={false} data-styles={styles.length}>
          {data.map((d) => (
            <ChartCell key={`${d.x}\u0000${d.y}`} fill="var(--accent)" fillOpacity={0.15 + (0.85 * d.count) / max} />
          ))}
          <LabelList dataKey="count" position="center" className="heat-value" fill="currentColor" />
        </Scatter>
      </ScatterChart>
    </ResponsiveContainer>
  );
}
