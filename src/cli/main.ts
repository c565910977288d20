#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { AtlasError } from '../errors.js';
import { createContext, type CliContext } from './context.js';
import { registerEmbed } from './commands/embed.js';
import { registerExport } from './commands/export.js';
import { registerGrid } from './commands/grid.js';
import { registerIngest } from './commands/ingest.js';
import { registerIngestVideo } from './commands/ingest-video.js';
import { registerMap } from './commands/map.js';
import { registerModels } from './commands/models.js';
import { registerRender } from './commands/render.js';
import { registerSample } from './commands/sample.js';
import { registerScrape } from './commands/scrape.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerBarcode } from './commands/barcode.js';
import { registerCluster } from './commands/cluster.js';
import { registerCompare } from './commands/compare.js';
import { registerPalette } from './commands/palette.js';
import { registerSearch } from './commands/search.js';
import { registerSimilar } from './commands/similar.js';

/** Runs one command's body with a context; turns errors into messages and exit codes. */
export type Run = (flags: { json?: boolean }, body: (ctx: CliContext) => Promise<void>) => Promise<void>;

const EXIT = { ok: 0, failed: 1, usage: 2, aborted: 130 } as const;

function printError(err: unknown, json: boolean): number {
  if (err instanceof AtlasError) {
    const code =
      err.code === 'INVALID_ARGUMENT' ? EXIT.usage : err.code === 'ABORTED' ? EXIT.aborted : EXIT.failed;
    if (json) {
      process.stdout.write(
        JSON.stringify({
          event: 'error',
          code: err.code,
          message: err.message,
          value: err.value,
          suggestion: err.suggestion,
        }) + '\n',
      );
    } else {
      process.stderr.write(`filmatlas: ${err.message}\n`);
      if (err.suggestion) process.stderr.write(`  hint: ${err.suggestion}\n`);
      if (process.env.FILMATLAS_DEBUG && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
    }
    return code;
  }
  // Not ours: a bug. Show the stack so it can be reported.
  process.stderr.write(
    `filmatlas: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return EXIT.failed;
}

const run: Run = async (flags, body) => {
  const json = Boolean(flags.json);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      if (!json)
        process.stderr.write('\nstopping after the stills in flight (Ctrl-C again to quit at once)…\n');
      controller.abort();
    } else process.exit(EXIT.aborted);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const ctx = createContext(json, controller.signal);
  try {
    await body(ctx);
  } catch (err) {
    ctx.progress.end();
    process.exitCode = printError(err, json);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('filmatlas')
    .description('Analyse and explore movies through their imagery.')
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  registerSample(program, run);
  registerIngest(program, run);
  registerIngestVideo(program, run);
  registerScrape(program, run);
  registerStatus(program, run);
  registerModels(program, run);
  registerEmbed(program, run);
  registerExport(program, run);
  registerMap(program, run);
  registerGrid(program, run);
  registerRender(program, run);
  registerServe(program, run);
  registerPalette(program, run);
  registerBarcode(program, run);
  registerSimilar(program, run);
  registerSearch(program, run);
  registerCluster(program, run);
  registerCompare(program, run);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version, unknown option, ...)
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    process.exitCode = printError(err, argv.includes('--json'));
  }
}

await main(process.argv);
