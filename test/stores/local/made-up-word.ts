/** A made-up word per number (letters only, between `prefix` and `suffix`), so bulk memories have words of their own. */
export function madeUpWord(index: number, prefix: string, suffix: string): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let text = '';
  let rest = index;
  do {
    text += letters[rest % letters.length];
    rest = Math.floor(rest / letters.length);
  } while (rest > 0);
  return `${prefix}${text}${suffix}`;
}
