/**
 * The built-in redactor (`redact: true`): masks e-mail addresses, phone numbers, payment card
 * numbers and API keys/secrets before any text reaches a store. Each is replaced by a tag such as
 * `[email]`, so a memory still reads naturally ("User's e-mail is [email]").
 */
const patterns: Array<[RegExp, string]> = [
  // API keys and tokens with well-known prefixes (OpenAI, Anthropic, GitHub, Slack, AWS, Google, Stripe, mem0).
  [
    /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|m0-[A-Za-z0-9]{20,})\b/g,
    '[api key]',
  ],
  // Bearer tokens and key=value secrets.
  [/\b(Bearer\s+)[A-Za-z0-9._~+/-]{16,}=*/g, '$1[api key]'],
  [/\b((?:api[_-]?key|secret|token|password)\s*[:=]\s*)["']?[^\s"']{8,}["']?/gi, '$1[secret]'],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[email]'],
  // 13-19 digits, optionally grouped by spaces or dashes: card numbers (checked with Luhn below).
  [/\b(?:\d[ -]?){12,18}\d\b/g, '[card]'],
  // Phone numbers: an optional +country code, then 7-15 digits with common separators.
  [/(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}\b/g, '[phone]'],
];

/** Masks e-mail addresses, phone numbers, card numbers and API keys in `text`. */
export function redactSensitive(text: string): string {
  let result = text;
  for (const [pattern, replacement] of patterns) {
    result =
      replacement === '[card]'
        ? result.replace(pattern, (match) => (luhn(match.replace(/\D/g, '')) ? replacement : match))
        : replacement === '[phone]'
          ? result.replace(pattern, (match) => (looksLikePhone(match) ? replacement : match))
          : result.replace(pattern, replacement);
  }
  return result;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

// Dates (2026-06-03) and plain years or amounts are not phone numbers.
function looksLikePhone(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  return !/^\d{4}-\d{2}-\d{2}$/.test(match.trim());
}
