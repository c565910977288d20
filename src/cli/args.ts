import { Option } from 'commander';
import { checkChoice, optionName, requireInt, requireNumber, type OptionSpec } from '../validate.js';

/*
 * commander argument parsers: each turns the string into a value and leaves the range
 * check, and its message naming the option and the string as typed, to validate.ts.
 */

export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => requireInt(name, /^-?\d+$/.test(v.trim()) ? Number(v) : NaN, min, max, v);
}

export function numberArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => requireNumber(name, v.trim() === '' ? NaN : Number(v), min, max, v);
}

export function choiceArg<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v: string) => checkChoice(name, v, choices) as T;
}

/** The commander option of a library option spec: the same flag, help line and range. */
export function optionOf(spec: OptionSpec): Option {
  const flag = `--${optionName(spec)}`;
  const option = new Option(spec.value === undefined ? flag : `${flag} ${spec.value}`, spec.description);
  switch (spec.type) {
    case 'int':
      return option.argParser(intArg(flag, spec.min, spec.max));
    case 'number':
      return option.argParser(numberArg(flag, spec.min, spec.max));
    case 'choice':
      return option.argParser(choiceArg(flag, spec.choices));
    case 'switch':
      return option;
  }
}
