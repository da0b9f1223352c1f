/**
 * The heuristic extractor's grammar: the user's first-person words ("I", "my") and the
 * assistant's second-person ones ("you", "your") turned into the third person a stored fact is
 * written in, and the tidying of a fact's ends.
 *
 * @module
 */

// Words about when the user said or did it, which would make a lasting fact read oddly later.
const trailingFiller =
  /[\s,]+(?:now|these days|nowadays|instead|from now on|anymore|any more|recently|lately|last (?:week|month|year)|this (?:week|month|year)|a (?:few |couple of )?(?:days|weeks|months|years) ago)$/i;

/** "My exam is on..." → "User's exam is on...", "I have..." → "User has...". */
export function subject(sentence: string): string {
  const text = sentence.trim();
  const replaced = text
    .replace(/^(?:my|our)\s+/i, "User's ")
    .replace(/^I(?:'ve| have) got\s+/i, 'User has ')
    .replace(/^I(?:'m| am)\s+/i, 'User is ')
    .replace(/^I(?:'ll| will)\s+/i, 'User will ')
    .replace(
      /^I\s+(was|had|did|must|can|could|should|would|might)\s+/i,
      (_, verb: string) => `User ${verb.toLowerCase()} `,
    )
    .replace(/^I\s+(\w+)/i, (_, verb: string) => `User ${conjugate(verb)}`);
  const rest = replaced.startsWith('User') ? replaced : capitalise(replaced);
  return rest.startsWith('User') ? `User${thirdPerson(rest.slice(4)).replace(/^(?=[^'\s])/, ' ')}` : thirdPerson(rest);
}

/** "live in Paris" → "lives in Paris"; only the first word is a verb. */
export function conjugate(phrase: string): string {
  return phrase.replace(/^(\w+)/, (verb) => {
    const word = verb.toLowerCase();
    if (word === 'have') return 'has';
    if (word === 'be') return 'is';
    if (word === 'do' || word === 'go') return `${word}es`;
    if (/(?:s|sh|ch|x|z|o)$/.test(word)) return `${word}es`;
    if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
    return `${word}s`;
  });
}

/** Turns the user's own words into the third person: "my" → "their", "I'm" → "they're". */
export function thirdPerson(text: string | undefined): string {
  return (text ?? '')
    .replace(/\bI'm\b/g, "they're")
    .replace(/\bI am\b/g, 'they are')
    .replace(/\bI've\b/g, "they've")
    .replace(/\bI\b/g, 'they')
    .replace(/\bmy\b/gi, 'their')
    .replace(/\bmine\b/gi, 'theirs')
    .replace(/\bmyself\b/gi, 'themselves')
    .replace(/\bme\b/gi, 'them')
    .trim();
}

/** The assistant's "you" is the user and its "my" its own: "remind you about your exam" → "remind them about their exam". */
export function secondToThird(text: string): string {
  return text
    .replace(/\bmyself\b/gi, 'itself')
    .replace(/\bmy\b/gi, 'its')
    .replace(/\byourself\b/gi, 'themselves')
    .replace(/\byours\b/gi, 'theirs')
    .replace(/\byour\b/gi, 'their')
    .replace(/\byou\b/gi, 'them')
    .trim();
}

/** A statement without its end punctuation and trailing time words ("now", "lately"). */
export function tidy(text: string): string {
  return text
    .replace(/[.!]+$/, '')
    .replace(trailingFiller, '')
    .trim();
}

/** A statement ended as a sentence, with one full stop. */
export function finish(text: string): string {
  const trimmed = text.replace(/[\s,;:]+$/, '');
  return /[.!]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Lower case, `''` for a group a pattern did not match. */
export function lower(text: string | undefined): string {
  return (text ?? '').toLowerCase();
}
