/**
 * Finds a date in an English sentence ("on 3 June", "June 3rd, 2026", "2026-06-03", "tomorrow",
 * "next Friday", "in two weeks", "yesterday") and resolves it to a calendar date relative to
 * today, for the heuristic extractor's events and deadlines.
 *
 * @module
 */

/** A calendar date, with no time or zone. */
export interface CalendarDate {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
}

/** A date phrase found in a sentence. */
export interface FoundDate {
  /** Where the phrase starts in the sentence, and its length. */
  index: number;
  length: number;
  date: CalendarDate;
  /** True when the sentence named the weekday or a relative day: the label then names the weekday too. */
  relative: boolean;
  /** True when the phrase gave no year (a birthday recurs; an exam is the next one). */
  yearGiven: boolean;
}

const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const weekdayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const month =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const ordinal = '(\\d{1,2})(?:st|nd|rd|th)?';
const year = '(?:,?\\s+(\\d{4}))?';
const numberWords: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};

type Resolver = (match: RegExpExecArray, today: CalendarDate, past: boolean) => Omit<FoundDate, 'index' | 'length'>;

const phrases: Array<[RegExp, Resolver]> = [
  [
    /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/i,
    (m) => absolute({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, true),
  ],
  [
    new RegExp(`\\b${ordinal}(?:\\s+of)?\\s+${month}\\b\\.?${year}`, 'i'),
    (m, today, past) => dayMonth(Number(m[1]), monthIndex(m[2]), m[3], today, past),
  ],
  [
    new RegExp(`\\b${month}\\.?\\s+${ordinal}\\b${year}`, 'i'),
    (m, today, past) => dayMonth(Number(m[2]), monthIndex(m[1]), m[3], today, past),
  ],
  [
    /\b(the day after tomorrow|tomorrow|today|tonight|yesterday)\b/i,
    (m, today) => {
      const word = (m[1] ?? '').toLowerCase();
      const offset = word === 'the day after tomorrow' ? 2 : word === 'tomorrow' ? 1 : word === 'yesterday' ? -1 : 0;
      return { date: addDays(today, offset), relative: true, yearGiven: false };
    },
  ],
  [
    /\b(?:(next|this|coming|last)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b/i,
    (m, today, past) => {
      const target = weekdayNames.findIndex((name) => name.toLowerCase() === (m[2] ?? '').toLowerCase());
      const current = weekday(today);
      const backwards = (m[1] ?? '').toLowerCase() === 'last' || past;
      // "Friday" said on a Wednesday is this week's; said on a Friday, next week's ("last": the one before).
      const offset = backwards ? -(((current - target + 6) % 7) + 1) : ((target - current + 6) % 7) + 1;
      return { date: addDays(today, offset), relative: true, yearGiven: false };
    },
  ],
  [
    /\bin\s+(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+(days?|weeks?)\b/i,
    (m, today) => {
      const count = /^\d+$/.test(m[1] ?? '') ? Number(m[1]) : (numberWords[(m[1] ?? '').toLowerCase()] ?? 1);
      const days = (m[2] ?? '').toLowerCase().startsWith('week') ? count * 7 : count;
      return { date: addDays(today, days), relative: true, yearGiven: false };
    },
  ],
];

/**
 * The first date phrase of `sentence`, resolved against `today`. A date without a year is the next
 * one from today, or the last one when `past` (the sentence is in the past tense). Returns
 * `undefined` when there is none, or when it names a day that does not exist (31 June).
 */
export function findDate(sentence: string, today: CalendarDate, past: boolean): FoundDate | undefined {
  let best: FoundDate | undefined;
  for (const [pattern, resolve] of phrases) {
    const match = pattern.exec(sentence);
    if (!match || (best && match.index >= best.index)) continue;
    const resolved = resolve(match, today, past);
    if (!isValid(resolved.date)) continue;
    best = { ...resolved, index: match.index, length: match[0].length };
  }
  return best;
}

/** `2026-06-03` */
export function isoDate({ year, month, day }: CalendarDate): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** "3 June 2026", "Friday 5 June 2026" (relative), "3 June" (without year). */
export function dateLabel(found: Pick<FoundDate, 'date' | 'relative'>, withYear = true): string {
  const { date } = found;
  const label = `${date.day} ${monthNames[date.month - 1]}${withYear ? ` ${date.year}` : ''}`;
  return found.relative ? `${weekdayNames[weekday(date)]} ${label}` : label;
}

let processZone: string | undefined;

/**
 * The process's IANA time zone, read once: asking `Intl` costs about 50 µs, and a server that wraps
 * a client per request would pay it on every request.
 */
export function processTimeZone(): string {
  processZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone;
  return processZone;
}

const formats = new Map<string, Intl.DateTimeFormat>();
// The last answer per time zone, by minute: every turn asks, and formatting is the slow part. A
// minute never straddles midnight in any time zone (offsets are whole minutes).
const lastDates = new Map<string, { minute: number; date: CalendarDate }>();

/** Today's calendar date in `timeZone` (an IANA name such as `Europe/Berlin`). */
export function calendarDate(now: Date, timeZone: string): CalendarDate {
  const minute = Math.floor(now.getTime() / 60_000);
  const last = lastDates.get(timeZone);
  if (last?.minute === minute) return { ...last.date };
  let format = formats.get(timeZone);
  if (!format) {
    // Building a formatter costs far more than using one: one per time zone, for the process.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(now).reduce<Record<string, number>>((found, part) => {
    if (part.type !== 'literal') found[part.type] = Number(part.value);
    return found;
  }, {});
  const date = { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1 };
  lastDates.set(timeZone, { minute, date });
  return { ...date };
}

function dayMonth(
  day: number,
  month: number,
  yearText: string | undefined,
  today: CalendarDate,
  past: boolean,
): Omit<FoundDate, 'index' | 'length'> {
  if (yearText) return absolute({ year: Number(yearText), month, day }, true);
  const thisYear = { year: today.year, month, day };
  const order = compare(thisYear, today);
  const date = past
    ? order > 0
      ? { ...thisYear, year: today.year - 1 }
      : thisYear
    : order < 0
      ? { ...thisYear, year: today.year + 1 }
      : thisYear;
  return absolute(date, false);
}

function absolute(date: CalendarDate, yearGiven: boolean): Omit<FoundDate, 'index' | 'length'> {
  return { date, relative: false, yearGiven };
}

function monthIndex(name: string | undefined): number {
  const prefix = (name ?? '').slice(0, 3).toLowerCase();
  return monthNames.findIndex((full) => full.slice(0, 3).toLowerCase() === prefix) + 1;
}

function toUtc({ year, month, day }: CalendarDate): Date {
  return new Date(Date.UTC(year, month - 1, day));
}

function addDays(date: CalendarDate, days: number): CalendarDate {
  const shifted = toUtc(date);
  shifted.setUTCDate(shifted.getUTCDate() + days);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function weekday(date: CalendarDate): number {
  return toUtc(date).getUTCDay();
}

function compare(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

function isValid(date: CalendarDate): boolean {
  if (date.month < 1 || date.month > 12 || date.day < 1) return false;
  const check = toUtc(date);
  return check.getUTCMonth() + 1 === date.month && check.getUTCDate() === date.day;
}
