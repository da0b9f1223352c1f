/**
 * Reading a user's turn sentence by sentence, for the heuristic extractor and for episodes:
 * splitting, telling small talk ("ok", "thanks", "got it") from content, and the past tense that
 * decides which way an unanchored weekday points. English only, like the rest of the heuristics.
 *
 * @module
 */

const filler =
  /^(?:hi|hello|hey|yo|hiya|howdy|thanks|thank you|thx|ty|cheers|ok|okay|k|kk|cool|great|nice|awesome|perfect|sure|fine|right|alright|all right|bye|goodbye|see you|good (?:morning|afternoon|evening|night)|lol|haha|hehe|yes|no|yep|yup|yeah|nope|nah|hmm+|um+|uh+|ah|oh|wow|i see|got it|makes sense|interesting|sounds good|no worries|no problem|np|never ?mind|you're welcome|welcome|good job|well done|nice one|fair enough|of course|noted|understood|sure thing|will do|done|my pleasure|any ?time|happy to help|glad (?:I could|to) help)(?:[\s,]+(?:there|again|so much|a lot|very much|everyone|all|mate|claude|man|then|thanks|thank you))*[\s!.,]*$/i;
const pastTense = /\b(?:was|were|had|did|went|yesterday|last)\b/i;

/**
 * The sentences of a text: split after `.`, `!`, `?` (not after a list number such as "1."), at
 * line breaks and semicolons.
 */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])(?<!(?:^|\n)\s*\d{1,3}\.)\s+|\n+|;\s*/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

// A name the small talk is addressed to: "Thanks, Maria!", "Wow, John!".
const vocative = /,\s*\p{Lu}[\p{L}'-]*[\s!.]*$/u;

// What people add to thanks and greetings: "that helps", "this is great", "appreciate it".
const pleasantry =
  /^(?:(?:that|this|it)(?:'s| is| was)? (?:(?:really|very|so|super) )?(?:helps?|helpful|great|perfect|awesome|amazing|useful|exactly what I needed|good to know)|(?:I )?(?:really )?appreciate (?:it|that|your help)|(?:you're|you are) (?:the best|a star|awesome)|(?:sounds|looks) (?:good|great|perfect)|will do|love it|good to know|I'll keep (?:that|it|this) in mind)(?:[\s,]+(?:thanks|thank you|again|so much|a lot))*[\s!.,]*$/i;

/**
 * True for a sentence that is only small talk: greetings, thanks, "ok", "got it", "lol",
 * "Thanks, Maria!", "Thanks, that helps.", "Great, thank you so much!": every comma-separated
 * part of it is small talk.
 */
export function isFiller(sentence: string): boolean {
  if (filler.test(sentence) || filler.test(sentence.replace(vocative, ''))) return true;
  const parts = sentence
    .split(/[,;:!]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^[.!?]+$/.test(part));
  return parts.length > 0 && parts.every((part) => filler.test(part) || pleasantry.test(part));
}

/** True when a sentence speaks of the past, so "on Friday" means the last Friday. */
export function isPastTense(sentence: string): boolean {
  return pastTense.test(sentence);
}
