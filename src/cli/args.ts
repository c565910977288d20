import { invalidArgument } from '../errors.js';

/** commander argument parsers that name the option and the bad value. */
export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw invalidArgument(name, `an integer ${min}–${max}`, v);
    }
    return n;
  };
}

export function numberArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw invalidArgument(name, `a number ${min}–${max}`, v);
    }
    return n;
  };
}

export function choiceArg<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw invalidArgument(name, `one of ${choices.join(', ')}`, v);
    return v as T;
  };
}
