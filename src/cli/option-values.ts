/**
 * Parsers for option values: commander reports a value they reject as a usage error (exit code 2).
 *
 * @module
 */

import { InvalidArgumentError } from 'commander';

/** A parser of whole numbers from `min` up. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isInteger(number) || number < min) {
      throw new InvalidArgumentError(`Expected a whole number of ${min} or more.`);
    }
    return number;
  };
}

/** A score between 0 and 1. */
export function scoreValue(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 1) {
    throw new InvalidArgumentError('Expected a number from 0 to 1.');
  }
  return number;
}

/** Memory types, from a repeated option, each value possibly a comma-separated list. */
export function collectTypes(value: string, previous: string[] | undefined): string[] {
  const types = value
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  if (types.length === 0) throw new InvalidArgumentError('Expected a memory type, such as preference or fact.');
  return [...(previous ?? []), ...types];
}

/** A JSON object, such as `{"source":"import"}`. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`Expected a JSON object, such as '{"source":"cli"}'.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`Expected a JSON object, such as '{"source":"cli"}'.`);
  }
  return parsed as Record<string, unknown>;
}

/** A TCP port, 0 for any free one. */
export function portNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0 || number > 65535) {
    throw new InvalidArgumentError('Expected a port from 0 (any free port) to 65535.');
  }
  return number;
}
