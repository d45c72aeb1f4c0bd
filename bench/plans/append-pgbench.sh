#!/usr/bin/env bash
# The append statement under pgbench (16 clients), on one schema migrated to 0007 and
# with the indexes 0007 dropped put back — to measure what the search GINs and the
# user_id-first message keys cost the append path in the database alone (no Node).
#
#   bench/plans/append-pgbench.sh [seconds per round, default 20] [rounds, default 3]
#
# Variants, alternated round by round so drift on a shared machine weighs on all alike:
#   0007        as shipped: messages (id) and (conversation_id, seq); no GIN on the append path
#   +gins       0007 plus messages_search_idx and a non-partial conversations_search_idx (0006's GINs)
#   0006        +gins plus the user_id-first keys: unique (user_id, id) and (user_id, conversation_id, seq)
# Needs PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
# pgbench and psql; the schema is dropped afterwards.
set -euo pipefail
URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
SECONDS_PER_ROUND=${1:-20}
ROUNDS=${2:-3}
SCHEMA=bench_pgb_$$
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$(mktemp)
trap 'PGOPTIONS="-c client_min_messages=warning" psql "$URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE"; rm -f "$SCRIPT"' EXIT

# Migrate through the library (every migration), then 200 users with one open conversation each.
(cd "$ROOT" && NODE_OPTIONS=--conditions=@convo/source npx tsx -e "
  import('@convo/core').then(async ({ openConvo }) => {
    const convo = await openConvo({ databaseUrl: '$URL', schema: '$SCHEMA', poolSize: 1 });
    await convo.close();
  });")
export PGOPTIONS="-c search_path=$SCHEMA"
psql "$URL" -q <<'SQL'
INSERT INTO users (external_id) SELECT 'pgb:' || g FROM generate_series(1, 200) g;
INSERT INTO conversations (user_id, title, title_source) SELECT id, 'Кот в шляпе', 'heuristic' FROM users;
CREATE TABLE pgb_targets AS SELECT row_number() OVER (ORDER BY id) AS n, user_id, id FROM conversations;
CREATE UNIQUE INDEX ON pgb_targets (n);
ANALYZE;
SQL

# The append without a client message id (messages/repository.ts, APPEND_FAST), ~90 characters.
cat >"$SCRIPT" <<'SQL'
\set n random(1, 200)
WITH k AS (SELECT user_id, id FROM pgb_targets WHERE n = :n), c AS (
  UPDATE conversations t SET last_seq = t.last_seq + 1, message_count = t.message_count + 1,
    updated_at = GREATEST(t.updated_at, now()), title = COALESCE(t.title, NULL::text),
    title_source = CASE WHEN t.title IS NULL AND NULL::text IS NOT NULL THEN 'heuristic' ELSE t.title_source END
  FROM k WHERE t.user_id = k.user_id AND t.id = k.id AND t.closed_at IS NULL
  RETURNING t.*
), ins AS (
  INSERT INTO messages (user_id, id, conversation_id, seq, role, content, parts, noise, client_message_id, run_id, created_at)
  SELECT c.user_id, gen_random_uuid(), c.id, c.last_seq, 'user',
         'Нарисуй кота в шляпе на синем фоне, пожалуйста, и добавь звёзды вокруг 🐱 номер ' || :n, NULL, false, NULL, NULL, now()
  FROM c RETURNING id, seq
) SELECT id, seq FROM ins;
SQL

variant() {
  case $1 in
    0007) psql "$URL" -q <<'SQL'
DROP INDEX IF EXISTS old_messages_user_id_id; DROP INDEX IF EXISTS old_messages_user_conversation_seq;
DROP INDEX IF EXISTS old_messages_search_idx; DROP INDEX IF EXISTS old_conversations_search_idx;
SQL
      ;;
    +gins) psql "$URL" -q <<'SQL'
DROP INDEX IF EXISTS old_messages_user_id_id; DROP INDEX IF EXISTS old_messages_user_conversation_seq;
CREATE INDEX IF NOT EXISTS old_messages_search_idx ON messages USING gin (to_tsvector('russian'::regconfig, content));
CREATE INDEX IF NOT EXISTS old_conversations_search_idx ON conversations USING gin
  (to_tsvector('russian'::regconfig, coalesce(title, '') || ' ' || coalesce(summary, '')));
SQL
      ;;
    0006) psql "$URL" -q <<'SQL'
CREATE INDEX IF NOT EXISTS old_messages_search_idx ON messages USING gin (to_tsvector('russian'::regconfig, content));
CREATE INDEX IF NOT EXISTS old_conversations_search_idx ON conversations USING gin
  (to_tsvector('russian'::regconfig, coalesce(title, '') || ' ' || coalesce(summary, '')));
CREATE UNIQUE INDEX IF NOT EXISTS old_messages_user_id_id ON messages (user_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS old_messages_user_conversation_seq ON messages (user_id, conversation_id, seq);
SQL
      ;;
  esac
  psql "$URL" -qc "VACUUM ANALYZE conversations" >/dev/null
}

declare -A TPS
for round in $(seq 1 "$ROUNDS"); do
  for v in 0007 +gins 0006; do
    variant "$v"
    tps=$(pgbench "$URL" -n -c 16 -j 2 -T "$SECONDS_PER_ROUND" -f "$SCRIPT" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')
    TPS[$v]="${TPS[$v]:-} $tps"
    echo "round $round $v: $tps tps" >&2
  done
done
echo "| variant | tps per round (16 clients, ${SECONDS_PER_ROUND} s each) | median | ÷ 0007 |"
echo "| --- | --- | ---: | ---: |"
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "${TPS[0007]}")
for v in 0007 +gins 0006; do
  m=$(median "${TPS[$v]}")
  echo "| $v | ${TPS[$v]} | $m | $(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f×", a / b}') |"
done
