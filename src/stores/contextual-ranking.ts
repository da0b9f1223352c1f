/**
 * The parts of lexical ranking that look beyond one memory's own words, shared by the local and
 * in-memory stores: the memories written just before and after it, and time cues in the query.
 *
 * Measured on LoCoMo (`npm run bench -- locomo`): memories are often turns of a conversation, and
 * the turn that holds an answer rarely repeats the question's words ("Did you go?" "Yes, last
 * week!"), while the turns around it do. Both adjustments only re-order memories that match the
 * query themselves: a memory with no query term is never returned because of its neighbours.
 * The weights were chosen on LoCoMo's three-conversation dev split.
 *
 * @module
 */

/**
 * Share of a neighbour's raw BM25 added to a memory's own, by distance in write order (1 = the
 * memory written just before or after it, 2 = the one beyond), the better side counting. The
 * order is that of the searched set: same scope, types and filters.
 */
export const neighbourWeights = [0.6, 0.4] as const;

/** Factor by which a memory that mentions a time gains when the query asks about one. */
export const timeCueBoost = 1.3;

// English only, like the stemmer: questions about when something happened or how long ago.
const timeQuestion = /\b(?:when|how long|how many (?:years|months|weeks|days)|what (?:year|month|day|date|time))\b/i;
const timeMention =
  /\b(?:yesterday|today|tonight|tomorrow|ago|last|next|recently|weekend|week|month|year|since|(?:mon|tues|wednes|thurs|fri|satur|sun)day|january|february|march|april|may|june|july|august|september|october|november|december|(?:19|20)\d\d)\b/i;

/** Whether the query asks when something happened, so that memories mentioning a time gain. */
export function asksForTime(query: string): boolean {
  return timeQuestion.test(query);
}

/**
 * One memory's score from its own raw BM25, the raw BM25 of the best neighbour at each distance
 * (`neighbourRaws[0]`: the better of the memories written just before and after it, `[1]`: the
 * better of the two beyond), and its text's time cues. 0 where `own` is 0.
 *
 * @example
 * contextualScore(2, [1, 0], 'Yes, last week', true); // (2 + 0.6 * 1) * 1.3
 */
export function contextualScore(
  own: number,
  neighbourRaws: readonly number[],
  text: string,
  timeWanted: boolean,
): number {
  if (own <= 0) return 0;
  let score = own;
  neighbourWeights.forEach((weight, offset) => {
    score += weight * (neighbourRaws[offset] ?? 0);
  });
  return timeWanted && timeMention.test(text) ? score * timeCueBoost : score;
}

/**
 * Combines raw BM25 scores with their neighbours' and the query's time cues. `raw[i]` is the raw
 * BM25 of the i-th memory in write order; the result is in the same order, 0 where `raw` is 0.
 *
 * @example
 * contextualScores([0, 2, 1], ['Hi', 'Did you go to Oslo?', 'Yes, last week'], 'When did she go to Oslo?');
 */
export function contextualScores(raw: number[], texts: string[], query: string): number[] {
  const timeWanted = asksForTime(query);
  return raw.map((own, index) =>
    contextualScore(
      own,
      neighbourWeights.map((_, offset) => Math.max(raw[index - offset - 1] ?? 0, raw[index + offset + 1] ?? 0)),
      texts[index] ?? '',
      timeWanted,
    ),
  );
}
