/**
 * The built-in redactor (`redact: true`): masks e-mail addresses, phone numbers, payment card
 * numbers and API keys, tokens, passwords and private keys before any text reaches a store. Each is
 * replaced by a tag such as `[email]`, so a memory still reads naturally ("User's e-mail is
 * [email]"). It runs on every write, so it is plain regular expressions, linear in the text.
 *
 * What it masks, in this order:
 * - `[private key]`: PEM private key blocks (`-----BEGIN ... PRIVATE KEY-----` to its END line);
 * - `[api key]`: JSON Web Tokens (`eyJ...`), keys with a known prefix (OpenAI and Anthropic
 *   `sk-...`, GitHub `ghp_`/`github_pat_`, GitLab `glpat-`, Slack `xox?-`, AWS `AKIA`/`ASIA`,
 *   Google `AIza`, Stripe `sk_live_`/`pk_test_`..., Hugging Face `hf_`, npm `npm_`, SendGrid `SG.`,
 *   mem0 `m0-`), `Bearer` tokens;
 * - `[secret]`: the value after `api_key=`, `token:`, `secret=`, `password:`, "my API key is ...",
 *   "the password is ...";
 * - `[email]`: e-mail addresses;
 * - `[card]`: 13 to 19 digits, grouped by spaces or dashes or not, that pass the Luhn check;
 * - `[phone]`: numbers of 7 to 15 digits written as phone numbers: with a `+country` code, an
 *   `(area)` code, or groups separated by spaces, dots or dashes, or any run of digits right after
 *   "phone", "mobile", "call me on"... Dates, times, IP addresses, versions and amounts written with
 *   thousands separators are left alone.
 *
 * @module
 */

const apiKeyPrefixes = [
  'sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}',
  'gh[pousr]_[A-Za-z0-9]{20,}',
  'github_pat_[A-Za-z0-9_]{22,}',
  'glpat-[A-Za-z0-9_-]{20,}',
  'xox[abposr]-[A-Za-z0-9-]{10,}',
  '(?:AKIA|ASIA)[0-9A-Z]{16}',
  'AIza[0-9A-Za-z_-]{35}',
  '(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
  'hf_[A-Za-z0-9]{30,}',
  'npm_[A-Za-z0-9]{36}',
  'SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}',
  'm0-[A-Za-z0-9]{20,}',
];

const privateKey = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g;
const jsonWebToken = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const prefixedKey = new RegExp(`\\b(?:${apiKeyPrefixes.join('|')})`, 'g');
const bearer = /\b(Bearer\s+)[A-Za-z0-9._~+/-]{16,}=*/g;
const keyValueSecret =
  /\b((?:api[_ -]?key|access[_ -]?key|secret(?:[_ -]?key)?|client[_ -]?secret|auth[_ -]?token|access[_ -]?token|token|password|passwd|pwd|passphrase)\s*[:=]\s*)(?!\[)["']?[^\s"',;]{4,}["']?/gi;
const spokenSecret =
  /\b((?:api[ -]?key|access[ -]?key|secret key|client secret|token|password|passcode|passphrase|pin code)\s+(?:is|was)\s+)(?!\[)["']?[^\s"',;]{4,}["']?/gi;
const email = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
// 13-19 digits, optionally grouped by single spaces or dashes, not inside a longer run of digits.
const cardCandidate = /(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d])/g;
// A phone-looking run: optional +code, optional (area), then digit groups with separators.
const phoneCandidate =
  /(?<![\w+.-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,6}){1,5}(?![\w.-]*\d)/g;
const internationalNumber = /(?<![\w+])\+\d{7,15}\b/g;
const phoneAfterWord =
  /\b((?:phone|mobile|cell|telephone|tel|whatsapp|my number|call me (?:on|at)|text me (?:on|at))(?:\s+(?:number|no\.?|is|at|on))*[\s:]+)\+?\d(?:[\s.-]?\d){6,14}\b/gi;

/** Masks e-mail addresses, phone numbers, card numbers and API keys, tokens and passwords in `text`. */
export function redactSensitive(text: string): string {
  return text
    .replace(privateKey, '[private key]')
    .replace(jsonWebToken, '[api key]')
    .replace(prefixedKey, '[api key]')
    .replace(bearer, '$1[api key]')
    .replace(keyValueSecret, '$1[secret]')
    .replace(spokenSecret, '$1[secret]')
    .replace(email, '[email]')
    .replace(cardCandidate, (match) => (luhn(match.replace(/\D/g, '')) ? '[card]' : match))
    .replace(phoneAfterWord, '$1[phone]')
    .replace(internationalNumber, '[phone]')
    .replace(phoneCandidate, (match) => (looksLikePhone(match) ? '[phone]' : match));
}

function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function looksLikePhone(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  const marked = match.startsWith('+') || match.includes('(');
  if (marked) return true;
  const trimmed = match.trim();
  // Dates (2026-06-03, 03.06.2026, 3-6-2026) and IPv4 addresses.
  if (/^\d{4}[-./]\d{1,2}[-./]\d{1,2}$/.test(trimmed) || /^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$/.test(trimmed)) {
    return false;
  }
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(trimmed)) return false;
  // Amounts with thousands separators: 1 000 000, 12.345.678.
  if (/^\d{1,3}(?:([ .])\d{3})(?:\1\d{3})+$/.test(trimmed)) return false;
  return true;
}
