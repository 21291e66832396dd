/**
 * "Did you mean …?" for unknown config keys, plugin package names, ids and error codes:
 * one edit distance (optimal string alignment: insertions, deletions, substitutions and
 * swaps of two neighbours each cost 1), compared case-insensitively, so every message
 * suggests the same way.
 */

/** Words longer than this get no suggestion: the distance is quadratic in the lengths. */
const MAX_COMPARED_LENGTH = 128;

/**
 * The edit distance of `a` and `b`, or `limit + 1` as soon as it is certainly above
 * `limit` (the caller only cares about close words, so long comparisons stop early).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  // Three rows: the previous two (for swaps) and the current one.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMinimum = current[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] as number) + 1);
      }
      current[j] = value;
      if (value < rowMinimum) rowMinimum = value;
    }
    if (rowMinimum > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length] as number;
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo: at most
 * a third of the word's length in edits (at least 1, at most 4). Case differences are free.
 *
 * @example
 * ```ts
 * closestMatch('baseUr', ['accounts', 'baseUrl', 'pageSize']); // 'baseUrl'
 * closestMatch('@kefu/wechat', ['@kefu/wechat-mp', '@kefu/youmi']); // '@kefu/wechat-mp'
 * ```
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length === 0 || word.length > MAX_COMPARED_LENGTH) return undefined;
  const lowered = word.toLowerCase();
  const limit = Math.min(4, Math.max(1, Math.floor(word.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === word || candidate.length > MAX_COMPARED_LENGTH) continue;
    const distance = editDistance(lowered, candidate.toLowerCase(), best ? Math.min(limit, best.distance) : limit);
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** ` (did you mean \`baseUrl\`?)` for a likely typo of one of `candidates`, else an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` (did you mean \`${match}\`?)`;
}
