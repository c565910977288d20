/**
 * Checks of option values, one home for the whole library (the CLI's commander
 * parsers in `cli/args.ts` turn strings into numbers and call these too). Each names
 * the option and the bad value (sharp's `invalidParameterError`): "expected an
 * integer 1–1024 for batch but got 0". `undefined` always passes: an option left out
 * takes its default.
 */
import { invalidArgument } from './errors.js';

/** An integer in [min, max], or undefined. */
export function checkInt(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalidArgument(name, `an integer ${min}–${max}`, v);
  }
}

/** A finite number in [min, max], or undefined. */
export function checkNumber(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalidArgument(name, `a number ${min}–${max}`, v);
  }
}

/** An integer in [min, max] that must be there; returns it typed. */
export function requireInt(name: string, v: unknown, min: number, max: number): number {
  if (v === undefined) throw invalidArgument(name, `an integer ${min}–${max}`, v);
  checkInt(name, v, min, max);
  return v as number;
}

/** A finite number in [min, max] that must be there; returns it typed. */
export function requireNumber(name: string, v: unknown, min: number, max: number): number {
  if (v === undefined) throw invalidArgument(name, `a number ${min}–${max}`, v);
  checkNumber(name, v, min, max);
  return v as number;
}

/** One of `choices`, or undefined; returns it typed. */
export function checkChoice<T extends string>(name: string, v: unknown, choices: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw invalidArgument(name, `one of ${choices.join(', ')}`, v);
  }
  return v as T;
}
