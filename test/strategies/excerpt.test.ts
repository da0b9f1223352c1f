import { describe, expect, it } from 'vitest';
import { answerCue, excerpt, splitSentences } from '../../src/strategies/prompt/excerpt.js';
import { searchTerms } from '../../src/text/text-terms.js';

const reply = [
  'We planted tomatoes and cucumbers in the raised bed by the fence.',
  'The soil there is rich and drains well after rain.',
  'The neighbours grow beans and squash on the other side.',
  'For the tomatoes and cucumbers we put in 8 plants, spaced about a foot apart.',
  'Watering every other morning has worked well so far.',
].join(' ');

describe('excerpt', () => {
  it('picks the sentence with the number when the question asks how many, among sentences with as many of its words', () => {
    const query = 'How many plants did I plant for tomatoes and cucumbers?';
    const shown = excerpt(splitSentences(reply), new Set(searchTerms(query)), 25, answerCue(query));
    expect(shown).toContain('we put in 8 plants');
  });

  it('asks a time of questions about when, a number of questions about amounts, and nothing of others', () => {
    expect(answerCue('When did I move to Lisbon?')?.test('I moved there last March.')).toBe(true);
    expect(answerCue('How much did the taxi cost?')?.test('It was $60.')).toBe(true);
    expect(answerCue('How much did the taxi cost?')?.test('It was pricey.')).toBe(false);
    expect(answerCue('Which hotel did you suggest?')).toBeUndefined();
  });

  it('never lifts a sentence for its number alone: a sentence without a word of the question stays out', () => {
    const text = 'I bought 12 eggs and 3 loaves of bread at the market. My sister likes the blue ceramic teapot a lot.';
    const query = 'How many teapots does my sister like?';
    const shown = excerpt(splitSentences(text), new Set(searchTerms(query)), 20, answerCue(query));
    expect(shown).toContain('My sister likes the blue ceramic teapot a lot.');
    expect(shown).not.toContain('12 eggs');
  });
});
