import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI } from './tmp.js';

const exec = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON lines of stdout (`--json` output). */
  lines: Record<string, unknown>[];
}

/** Runs the built CLI (`dist/cli/main.js`) and never throws on a non-zero exit. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20, env });
    return { code: 0, ...r, lines: jsonLines(r.stdout) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, lines: jsonLines(err.stdout) };
  }
}

export function jsonLines(s: string): Record<string, unknown>[] {
  return s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The `result` line of a `--json` run. */
export function resultOf(r: CliRun): Record<string, unknown> {
  const res = r.lines.find((l) => l.event === 'result');
  assert.ok(res, `no result line in: ${r.stdout}\n${r.stderr}`);
  return res;
}

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
