import { ProgressReporter } from './progress.js';

/** What every command gets from the CLI shell: output mode, progress, cancellation. */
export interface CliContext {
  json: boolean;
  progress: ProgressReporter;
  signal: AbortSignal;
  /** A human line (suppressed under --json). */
  say(line: string): void;
  /** The command's result: JSON under --json, else the given text. */
  result(value: unknown, text: string): void;
}

export function createContext(json: boolean, signal: AbortSignal): CliContext {
  const progress = new ProgressReporter({ json });
  return {
    json,
    progress,
    signal,
    say(line) {
      if (json) return;
      progress.end();
      process.stdout.write(line + '\n');
    },
    result(value, text) {
      progress.end();
      if (json) process.stdout.write(JSON.stringify({ event: 'result', ...(value as object) }) + '\n');
      else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    },
  };
}
