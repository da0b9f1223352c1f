/**
 * Text to search terms, shared by the stores that rank or compare text without embeddings and by
 * the strategies that compare what was said with what is stored. It lives outside both, so
 * neither reaches into the other's folder.
 *
 * @module
 */

import { stemmer } from 'stemmer';

// Words are runs of letters, marks and digits of any script (with inner apostrophes: "don't");
// an emoji, with its modifiers and joined parts, is a term of its own.
const wordOrEmoji =
  /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*/gu;
// Scripts written without spaces between words, where a run of letters is a phrase, not a word.
const unspacedScript =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
// ICU segments those scripts by dictionary; it is far slower than the regex, so it only sees the
// runs that need it. 'und' keeps the result independent of the machine's locale.
const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });

// Porter stems regular inflections only: "went" and "go", "bought" and "buy" stay apart unless
// the common irregular forms are mapped to their base verb first. Forms that are also other words
// ("left", "saw", "found", "felt") are mapped too: as search terms the verb reading dominates.
const irregularForms = new Map<string, string>();
for (const entry of (
  'be:was,were,been begin:began,begun break:broke,broken bring:brought build:built buy:bought catch:caught ' +
  'choose:chose,chosen come:came do:did,done draw:drew,drawn drink:drank,drunk drive:drove,driven eat:ate,eaten ' +
  'fall:fell,fallen feel:felt fight:fought find:found fly:flew,flown forget:forgot,forgotten get:got,gotten ' +
  'give:gave,given go:went,gone grow:grew,grown have:had hear:heard hold:held keep:kept know:knew,known ' +
  'lead:led leave:left lend:lent lose:lost make:made mean:meant meet:met pay:paid ride:rode,ridden ring:rang,rung ' +
  'rise:rose,risen run:ran say:said see:saw,seen sell:sold send:sent shoot:shot show:shown sing:sang,sung ' +
  'sit:sat sleep:slept speak:spoke,spoken spend:spent stand:stood steal:stole,stolen swim:swam,swum ' +
  'take:took,taken teach:taught tell:told think:thought throw:threw,thrown understand:understood wake:woke,woken ' +
  'wear:wore,worn win:won write:wrote,written'
).split(' ')) {
  const [base = '', forms = ''] = entry.split(':');
  for (const form of forms.split(',')) irregularForms.set(form, base);
}

const emoji = /^\p{Extended_Pictographic}/u;
const plainEnglishWord = /^[a-z]+$/;
const possessive = /['’]s$/;

// Words so common they say nothing about what a memory is about. Kept small on purpose: a longer
// list starts dropping words that matter ("not", "no", "off" change what a preference means).
const stopWords = new Set(
  'a an and are as at be by for from in is it of on or that the this to was were with'.split(' '),
);

// Words that carry a question's grammar, not its topic ("when did she go ..."): dropped from
// search queries only. Memories keep them, so "not" still separates two preferences.
const queryFunctionWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between ' +
    'both but by can could did do does doing down during each few for from further had has have having he her ' +
    'here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not ' +
    'now of off on once only or other our ours ourselves out over own same she should so some such than that the ' +
    'their theirs them themselves then there these they this those through to too under until up very was we ' +
    'were what when where which while who whom why will with would you your yours yourself yourselves'
  ).split(' '),
);

/**
 * Splits text into search terms: lowercased words of any script (numbers included), emoji as terms
 * of their own, common English stop words dropped, English words reduced to their Porter stem.
 * Terms repeat as often as they occur, so callers can count term frequency.
 *
 * @example
 * terms('The user prefers dark themes 🌙'); // ['user', 'prefer', 'dark', 'theme', '🌙']
 */
export function terms(text: string): string[] {
  return collect(text, stopWords);
}

/**
 * The terms of a search query: `terms()` without the words that only carry the question's grammar
 * (what, when, did, would, ...), which would otherwise match every memory that asks something.
 *
 * @example
 * searchTerms('When did Caroline go to the support group?'); // ['caroline', 'go', 'support', 'group']
 */
export function searchTerms(query: string): string[] {
  return collect(query, queryFunctionWords);
}

function collect(text: string, skip: Set<string>): string[] {
  const found: string[] = [];
  for (const [token] of text.normalize('NFKC').toLowerCase().matchAll(wordOrEmoji)) {
    if (emoji.test(token)) found.push(token);
    else if (unspacedScript.test(token)) {
      for (const { segment, isWordLike } of wordSegmenter.segment(token))
        if (isWordLike) pushWord(found, segment, skip);
    } else pushWord(found, token, skip);
  }
  return found;
}

function pushWord(found: string[], token: string, skip: Set<string> = stopWords): void {
  const word = token.replace(possessive, '');
  if (word === '' || skip.has(word)) return;
  if (!plainEnglishWord.test(word)) {
    // Porter's rules are for English: applied to other words they would cut real letters off.
    found.push(word);
    return;
  }
  const base = irregularForms.get(word) ?? word;
  if (!skip.has(base)) found.push(stemmer(base));
}

/**
 * How much two term lists overlap: the Jaccard index of their term sets, from 0 (nothing shared)
 * to 1 (the same terms). Two empty lists count as identical.
 *
 * @example
 * wordOverlap(terms('User likes dark mode'), terms('The user likes dark mode')); // 1
 */
export function wordOverlap(a: string[], b: string[]): number {
  const setA = new Set(a);
  const setB = new Set(b);
  if (setA.size === 0 && setB.size === 0) return 1;
  let shared = 0;
  for (const term of setA) if (setB.has(term)) shared += 1;
  return shared / (setA.size + setB.size - shared);
}

/**
 * How closely `b` restates `a`: their `wordOverlap` when one term set contains the other, else 0.
 * A restatement repeats a fact or adds detail to it; a text that drops one of the other's terms
 * and puts another in its place ("dislikes Jira" and "dislikes Blender") says something else,
 * however many words the two share, and must not be merged into it.
 *
 * @example
 * restatementOverlap(terms('User lives in Oslo'), terms('User now lives in Oslo')); // 0.75
 * restatementOverlap(terms('User dislikes Jira'), terms('User dislikes Blender')); // 0
 */
export function restatementOverlap(a: string[], b: string[]): number {
  // Terms are counted, not just collected: "in Blender and dislikes Blender" is not contained in
  // "in Blender and dislikes Jira", though every distinct term of it is.
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  const available = new Map<string, number>();
  for (const term of longer) available.set(term, (available.get(term) ?? 0) + 1);
  for (const term of shorter) {
    const left = available.get(term) ?? 0;
    if (left === 0) return 0;
    available.set(term, left - 1);
  }
  return wordOverlap(a, b);
}
