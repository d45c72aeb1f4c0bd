/**
 * The HTTP reference of issue 10: a bare `node:http` server running the minimal
 * reference's SQL (bench/reference/minimal.ts) through a `pg` Pool — no framework, no
 * validation, no auth — with the routes Convo answers for W1–W3, so the same client
 * drives both. Plain JavaScript, started with `node` (no TypeScript loader in the way).
 *
 *   DATABASE_URL=… REF_SCHEMA=bench_min_… node bench/http/reference-server.mjs
 *
 * Prints `listening on http://127.0.0.1:<port>` once it accepts requests.
 */
import http from "node:http";
import pg from "pg";
import { serveForParent } from "./child-server.mjs";

const s = process.env.REF_SCHEMA;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 16) });
pool.on("error", () => {});

const APPEND = `WITH c AS (UPDATE "${s}".conversations SET updated_at = $2 WHERE id = $1 RETURNING id)
INSERT INTO "${s}".messages (id, conversation_id, seq, role, content, created_at)
SELECT gen_random_uuid(), c.id,
       COALESCE((SELECT max(seq) FROM "${s}".messages m WHERE m.conversation_id = c.id), 0) + 1,
       $3, $4, $2
FROM c
RETURNING *`;
const RECENT = `SELECT * FROM "${s}".messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2`;
const PAGE = `SELECT * FROM "${s}".conversations WHERE user_id = $1 ORDER BY updated_at DESC LIMIT $2`;
const COUNT = `SELECT count(*)::int AS total FROM "${s}".conversations WHERE user_id = $1`;

const send = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

async function append(id, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await pool.query(APPEND, [id, new Date(), body.role, body.content])).rows[0];
    } catch (error) {
      if (error.code !== "23505" || attempt >= 10) throw error;
    }
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const parts = url.pathname.split("/");
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    try {
      if (req.method === "POST" && parts[2] === "conversations" && parts[4] === "messages") {
        const row = await append(parts[3], JSON.parse(Buffer.concat(chunks).toString("utf8")));
        return row ? send(res, 201, row) : send(res, 404, { error: { code: "not_found" } });
      }
      if (req.method === "GET" && parts[2] === "conversations" && parts[4] === "messages") {
        const rows = (await pool.query(RECENT, [parts[3], Number(url.searchParams.get("last") ?? 20)])).rows;
        return send(res, 200, { messages: rows.reverse() });
      }
      if (req.method === "GET" && parts[2] === "users" && parts[4] === "conversations") {
        const limit = Number(url.searchParams.get("limit") ?? 20);
        const page = await pool.query(PAGE, [parts[3], limit]);
        const count = await pool.query(COUNT, [parts[3]]);
        const total = count.rows[0].total;
        return send(res, 200, { sessions: page.rows, total, hasMore: total > page.rows.length });
      }
      send(res, 404, { error: { code: "not_found" } });
    } catch (error) {
      send(res, 500, { error: { code: "internal", message: String(error) } });
    }
  });
});
serveForParent(server, () => pool.end());
