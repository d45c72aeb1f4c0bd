/** Shared by the core and server dialog-analytics tests: the numbers must equal these. */
/** The analytics SQL of seeds/000-assistant-sessions-table.md, verbatim. */
export const DESIGN_ANALYTICS_SQL = {
  goals: `SELECT goal, count(*) as cnt
FROM assistant_sessions
WHERE goal IS NOT NULL
GROUP BY goal ORDER BY cnt DESC LIMIT 20;`,
  styles: `SELECT style, count(*) as cnt
FROM assistant_sessions
WHERE confirmed = true
GROUP BY style ORDER BY cnt DESC;`,
  funnel: `SELECT
  count(*) as started,
  count(*) FILTER (WHERE goal IS NOT NULL) as set_goal,
  count(*) FILTER (WHERE style IS NOT NULL) as chose_style,
  count(*) FILTER (WHERE emotion IS NOT NULL) as chose_emotion,
  count(*) FILTER (WHERE pose IS NOT NULL) as chose_pose,
  count(*) FILTER (WHERE confirmed) as confirmed,
  count(*) FILTER (WHERE status = 'completed') as completed
FROM assistant_sessions;`,
  steps: `SELECT avg(current_step) FROM assistant_sessions WHERE confirmed = true;`,
  statuses: `SELECT status, count(*) FROM assistant_sessions GROUP BY status;`,
  combos: `SELECT style, emotion, count(*) as cnt
FROM assistant_sessions
WHERE confirmed = true
GROUP BY style, emotion ORDER BY cnt DESC LIMIT 20;`,
};
