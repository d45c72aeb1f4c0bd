/**
 * A seeded pseudo-random generator (mulberry32). Contenders of one comparison must
 * see the same "random" sequence, and runs must be repeatable, so Math.random is not
 * used.
 */

/** Answers a function giving floats in [0, 1) from `seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` integers in [0, max) from `seed`. */
export function randomIndices(seed: number, count: number, max: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(next() * max));
}
