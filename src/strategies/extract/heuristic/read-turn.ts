/**
 * Reading a user's turn into statements for the heuristic extractor: which sentences state
 * something (not questions, not small talk), which rule or date each one matches, what it
 * retires ("I no longer ..."), and a "yes" to the assistant's last offer.
 *
 * @module
 */

import type { FactInput } from '../../../core/types.js';
import { type CalendarDate, dateLabel, findDate, isoDate } from '../date-phrases.js';
import { isFiller, isPastTense, sentences } from '../sentences.js';
import { firstRules, laterRules, type Rule } from './statement-rules.js';
import { conjugate, finish, secondToThird, subject, thirdPerson, tidy } from './third-person.js';

/** A change the turn asks for, before it becomes an operation. */
export type Step =
  | { kind: 'fact'; fact: FactInput; corrective: boolean; reason: string }
  | { kind: 'retire'; content: string; fallback: FactInput };

// "Do not use emojis." is an instruction, not a question.
const questionStart =
  /^(?:what|who|where|when|why|how|which|can|could|would|will|should|do(?!\s+not\b)|does|did|is|are|am|was|were|may|shall)\b/i;
const correctionWords =
  /\b(?:actually|now|instead|anymore|any more|no longer|changed my mind|correction|these days|nowadays|rather than)\b|^(?:no|sorry|wait|oops)\b/i;
const leadingFiller =
  /^(?:(?:actually|oh|well|ok|okay|so|also|and|btw|by the way|hmm|um|no|sorry|wait|oops|correction|update|fyi|just so you know)\b[\s,:;-]*)+/i;
// "I go to the gym on Monday" said of every Monday is a habit, not an event on the next one.
const habitual = /\b(?:usually|always|often|normally|generally|typically|every|each|sometimes|never)\b/i;
const deadlineWords =
  /\b(?:due|deadline|submit|hand in|turn in|finish|complete|deliver|pay|renew|file|need to|have to|must|got to|has to|remember to)\b/i;
const aboutUser = /^(?:my|our)\b|\bI(?:'m|'ve|'ll|'d)?\b|\b(?:due|deadline)\b/i;
const retirements: Array<[RegExp, (content: string) => string]> = [
  [/\bI(?:'m| am) no longer\s+(.+)$/i, (content) => `User is no longer ${content}`],
  [/\bI(?:'m| am) not\s+(.+?)\s+any\s?more\b/i, (content) => `User is no longer ${content}`],
  [/^not\s+(.+?)\s+any\s?more\b/i, (content) => `User is no longer ${content}`],
  [/\bI no longer\s+(.+)$/i, (content) => `User no longer ${conjugate(content)}`],
  [/\bI (?:don't|do not)\s+(.+?)\s+any\s?more\b/i, (content) => `User no longer ${conjugate(content)}`],
  [
    /\bI(?:'ve| have)?\s*(?:stopped|quit|given up)\s+(.+)$/i,
    (content) => `User has stopped ${content.replace(/^(?:my|their)\s+/i, '')}`,
  ],
];
const offers: RegExp[] = [
  /\b(?:would you like|do you want|want) me to\s+(.+?)\?*$/i,
  /\b(?:shall|should) I\s+(.+?)\?*$/i,
  /\bI(?:'ll| will)\s+(.+?\s+from now on)\b/i,
  /\bfrom now on,?\s+I(?:'ll| will)\s+(.+?)[.!]*$/i,
  /\bI can\s+(.+?)\s+if you(?:'d)? (?:like|want)\b/i,
];
const affirmation =
  /^(?:yes|yeah|yep|yup|sure|ok|okay|please do|please|go ahead|sounds good|that would be (?:great|nice|helpful|perfect)|perfect|great|absolutely|definitely|do it|do that|alright|all right|of course)\b/i;
const refusal = /^(?:no|nope|nah|not now|no thanks|don't)\b/i;
const reminderWords = /\b(?:remind|follow up|check in|schedule|send|notify|ping)\b/i;

/** The steps a turn asks for, in the order the user said them. */
export function readTurn(userText: string, offered: string | undefined, today: CalendarDate): Step[] {
  const steps: Step[] = [];
  const said = sentences(userText);
  if (offered && said[0] && affirmation.test(said[0]) && !refusal.test(said[0])) {
    steps.push({
      kind: 'fact',
      fact: {
        text: finish(`User wants the assistant to ${offered}`),
        type: reminderWords.test(offered) ? 'task' : 'preference',
      },
      corrective: false,
      reason: "heuristic: the user accepted the assistant's offer",
    });
  }
  for (const raw of said) {
    if (isFiller(raw) || raw.endsWith('?') || questionStart.test(raw)) continue;
    const corrective = correctionWords.test(raw);
    const sentence = raw.replace(leadingFiller, '').trim();
    if (sentence === '' || isFiller(sentence) || questionStart.test(sentence)) continue;

    const retirement = retire(sentence);
    if (retirement) {
      steps.push(retirement);
      continue;
    }
    // Likes and profile details first: "I prefer meetings on Monday" is a preference, not an event.
    const fact = byRule(sentence, firstRules) ?? dated(sentence, today) ?? byRule(sentence, laterRules);
    if (fact) steps.push({ kind: 'fact', fact, corrective, reason: 'heuristic: stated by the user' });
  }
  return steps;
}

function retire(sentence: string): Step | undefined {
  for (const [pattern, statement] of retirements) {
    const match = pattern.exec(sentence);
    if (!match) continue;
    const content = tidy(thirdPerson(match[1]));
    if (content === '') return undefined;
    return { kind: 'retire', content, fallback: { text: finish(statement(content)), type: 'fact' } };
  }
  return undefined;
}

/** A sentence about the user with a date: an event, a deadline, or a birthday. */
function dated(sentence: string, today: CalendarDate): FactInput | undefined {
  if (!aboutUser.test(sentence) || habitual.test(sentence)) return undefined;
  const found = findDate(sentence, today, isPastTense(sentence));
  if (!found) return undefined;
  const before = sentence.slice(0, found.index);
  const after = sentence.slice(found.index + found.length);
  if (/\bbirthday\b/i.test(sentence)) {
    const label = dateLabel({ ...found, relative: false }, found.yearGiven);
    const date = found.yearGiven ? isoDate(found.date) : `--${isoDate(found.date).slice(5)}`;
    return { text: finish(subject(`${before}${label}${after}`)), type: 'profile', metadata: { date } };
  }
  // "tomorrow" becomes "on Thursday 4 June 2026": the memory must still be true next week.
  const needsOn = found.relative && !/\b(?:on|by|until|till|before|after|since|from|for)\s+$/i.test(before);
  const label = `${needsOn ? 'on ' : ''}${dateLabel(found)}`;
  return {
    text: finish(subject(`${before}${label}${after}`)),
    type: deadlineWords.test(sentence) ? 'task' : 'event',
    metadata: { date: isoDate(found.date) },
  };
}

function byRule(sentence: string, ruleSet: Rule[]): FactInput | undefined {
  for (const rule of ruleSet) {
    const match = rule.pattern.exec(sentence);
    if (match) return { text: finish(tidy(rule.fact(match))), type: rule.type };
  }
  return undefined;
}

/** The assistant's last offer in its reply ("Would you like me to ...?"), in the third person. */
export function findOffer(assistantText: string): string | undefined {
  for (const sentence of sentences(assistantText).reverse()) {
    for (const pattern of offers) {
      const match = pattern.exec(sentence);
      if (match?.[1]) return tidy(secondToThird(match[1]));
    }
  }
  return undefined;
}
