/**
 * Conversation titles. The heuristic title is always available (no model needed):
 * the first user message with markup removed, cut at a word boundary to at most 30
 * code points — PostgreSQL's `char_length`, which the table's check constraint uses.
 * Cutting walks grapheme clusters, so an emoji or a combined letter is never split.
 */
import { MAX_TITLE_LENGTH } from "../validation.js";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Removes Markdown/HTML markup and links, and collapses whitespace: the plain text a
 * title or a preview is cut from.
 *
 * @example
 * stripMarkup("**Привет**, посмотри [мой сайт](https://example.com)!"); // "Привет , посмотри мой сайт!"
 */
export function stripMarkup(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/<[^>]{1,200}>/g, " ")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/https?:\/\/\S+/g, " ")
    .replace(/[*_~`#>|]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const codePoints = (s: string) => [...s].length;

/**
 * Text in which every UTF-16 code unit is a grapheme of its own: Latin (with Latin-1
 * and the Latin extensions), Greek and Cyrillic letters without combining marks, and
 * punctuation other than the zero-width and formatting characters. Most titles are cut
 * from such text, and splitting it needs no `Intl.Segmenter`, which costs ~25 µs a call.
 */
const SIMPLE_TEXT = /^[\u0020-\u007E\u00A0-\u02FF\u0370-\u0482\u048A-\u052F\u2010-\u2027\u2030-\u205E]*$/;

/** The grapheme clusters of `text`. */
function graphemes(text: string): Iterable<string> {
  if (SIMPLE_TEXT.test(text)) return text;
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * A title of at most `max` code points from a message: the message itself when it
 * fits, else the longest run of whole words that fits with an ellipsis, else (one
 * long word) the longest run of whole graphemes. Answers undefined for a message
 * with no text left after stripping markup.
 *
 * @example
 * heuristicTitle("Помоги придумать подарок маме на день рождения"); // "Помоги придумать подарок маме…"
 * heuristicTitle("Привет!"); // "Привет!"
 */
export function heuristicTitle(message: string, max: number = MAX_TITLE_LENGTH): string | undefined {
  const text = stripMarkup(message);
  if (text.length === 0) return undefined;
  if (codePoints(text) <= max) return text;
  const budget = max - 1; // room for "…"
  let cut = "";
  let used = 0; // code points in `cut`
  let lastWordEnd = 0;
  // Only a prefix is segmented: the cut ends within `budget` code points (at most
  // 2 × budget code units), so any grapheme reaching past 4 × max code units would not
  // fit anyway. Segmenting a whole long message cost ~35 µs per append.
  const prefix = text.slice(0, 4 * (max + 1));
  for (const segment of graphemes(prefix)) {
    const size = codePoints(segment);
    if (used + size > budget) {
      // A word that ends exactly at the budget is whole.
      if (/\s/.test(segment)) lastWordEnd = cut.length;
      break;
    }
    if (/\s/.test(segment)) lastWordEnd = cut.length;
    cut += segment;
    used += size;
  }
  const words = lastWordEnd > 0 ? cut.slice(0, lastWordEnd) : cut;
  return `${words.replace(/[\s,.;:!?—–-]+$/u, "")}…`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The date title of a conversation that never got one: `21 Nov 2026` (UTC).
 *
 * @example
 * dateTitle(new Date("2026-11-21T10:00:00Z")); // "21 Nov 2026"
 */
export function dateTitle(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, "0");
  return `${day} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}
