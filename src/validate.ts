/**
 * Checks of option values, one home for the whole library (the CLI's commander
 * parsers in `cli/args.ts` turn strings into numbers and call these too). Each names
 * the option and the bad value (sharp's `invalidParameterError`): "expected an
 * integer 1–1024 for batch but got 0". `undefined` always passes: an option left out
 * takes its default.
 *
 * `max` may be `Infinity` (no upper bound: "an integer ≥ 2", and from 1 "a positive
 * integer"); a number's `min` may be `Number.MIN_VALUE` (above zero: "a positive
 * number"). `given` is the value as the user wrote it, shown in the message instead
 * of `v` (the CLI passes the string it parsed, so `--k abc` reports 'abc').
 */
import { invalidArgument } from './errors.js';

/** What an integer option expects, in words: "an integer 1–1024", "an integer ≥ 2", "a positive integer". */
export function intRange(min: number, max: number): string {
  if (max === Infinity) return min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
  return `an integer ${min}–${max}`;
}

/** What a number option expects, in words: "a number 0–1", "a number ≥ 0", "a positive number ≤ 1000000". */
export function numberRange(min: number, max: number): string {
  if (min === Number.MIN_VALUE) return max === Infinity ? 'a positive number' : `a positive number ≤ ${max}`;
  return max === Infinity ? `a number ≥ ${min}` : `a number ${min}–${max}`;
}

/** An integer in [min, max], or undefined. */
export function checkInt(name: string, v: unknown, min: number, max: number, given: unknown = v): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalidArgument(name, intRange(min, max), given);
  }
}

/** A finite number in [min, max], or undefined. */
export function checkNumber(name: string, v: unknown, min: number, max: number, given: unknown = v): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalidArgument(name, numberRange(min, max), given);
  }
}

/** An integer in [min, max] that must be there; returns it typed. */
export function requireInt(name: string, v: unknown, min: number, max: number, given: unknown = v): number {
  if (v === undefined) throw invalidArgument(name, intRange(min, max), given);
  checkInt(name, v, min, max, given);
  return v as number;
}

/** A finite number in [min, max] that must be there; returns it typed. */
export function requireNumber(
  name: string,
  v: unknown,
  min: number,
  max: number,
  given: unknown = v,
): number {
  if (v === undefined) throw invalidArgument(name, numberRange(min, max), given);
  checkNumber(name, v, min, max, given);
  return v as number;
}

/** One of `choices`, or undefined; returns it typed. */
export function checkChoice<T extends string>(
  name: string,
  v: unknown,
  choices: readonly T[],
): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw invalidArgument(name, `one of ${choices.join(', ')}`, v);
  }
  return v as T;
}

/**
 * One option of a library entry point, described as data so that the library's check
 * and the CLI's flag are made from the same entry (`MAP_OPTIONS` in layout/reduce.ts;
 * the CLI turns each into a commander option in `cli/args.ts`). `key` is the field of
 * the options object; the flag is `--` and the key in kebab-case (`minDist` →
 * `--min-dist`, which commander maps back to `minDist`), and the name errors give
 * (`min-dist`).
 */
export type OptionSpec<K extends string = string> = {
  key: K;
  /** The `--help` line: what the option does and its default. */
  description: string;
  /** Placeholder of the value in `--help` (`<n>`); a switch has none. */
  value?: string;
} & (
  | { type: 'int' | 'number'; min: number; max: number }
  | { type: 'choice'; choices: readonly string[] }
  | { type: 'switch' }
);

/** The option's name in messages, and its CLI flag without the dashes: `minDist` → `min-dist`. */
export function optionName(spec: Pick<OptionSpec, 'key'>): string {
  return spec.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Checks the fields of `values` that `specs` describe (a missing one takes its default). */
export function checkOptions(specs: readonly OptionSpec[], values: object): void {
  for (const spec of specs) {
    const v = (values as Record<string, unknown>)[spec.key];
    const name = optionName(spec);
    if (spec.type === 'int') checkInt(name, v, spec.min, spec.max);
    else if (spec.type === 'number') checkNumber(name, v, spec.min, spec.max);
    else if (spec.type === 'choice') checkChoice(name, v, spec.choices);
  }
}
