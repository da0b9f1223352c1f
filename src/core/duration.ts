const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `'30d'`, `'12h'`, `'15m'`, `'45s'`, `'2w'` (or a number of milliseconds) into milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/.exec(value);
  if (!match?.[1] || !match[2]) return undefined;
  const unit = units[match[2]];
  const amount = Number(match[1]);
  return unit !== undefined && amount > 0 ? amount * unit : undefined;
}
