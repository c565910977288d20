/**
 * Options that several commands share, each declared once: the same flag, help line,
 * range and default wherever it appears. Single options are commander `Option`s
 * (`.addOption(jsonOption())`); a group that travels together is a function that adds
 * it to a command.
 */
import { Option, type Command } from 'commander';
import { openAtlas, type Atlas } from '../atlas/atlas.js';
import { FITS, type FitMode } from '../imaging/standardise.js';
import { DEFAULT_NORMALIZATION, NORMALIZATIONS } from '../looks/vectors.js';
import { choiceArg, intArg } from './args.js';

/** `--atlas <dir>`, required: an atlas that exists (`addNewAtlasOptions` for one a command may create). */
export function atlasOption(): Option {
  return new Option('--atlas <dir>', 'atlas directory').makeOptionMandatory();
}

/** `--json`: results and progress as JSON lines on stdout. */
export function jsonOption(): Option {
  return new Option('--json', 'machine-readable output (JSON lines)');
}

/** `--features <model>`: which stored feature set a look compares by. */
export function featuresOption(): Option {
  return new Option('--features <model>', 'feature set (default: vgg16 if the atlas has it, else color)');
}

/** `--normalize <how>`: feature normalisation before the looks' distances. */
export function normalizeOption(): Option {
  return new Option('--normalize <how>', `feature normalisation: ${NORMALIZATIONS.join('|')}`)
    .argParser(choiceArg('--normalize', NORMALIZATIONS))
    .default(DEFAULT_NORMALIZATION);
}

/** `--threads <n>`: ONNX Runtime threads, 1–256. */
export function threadsOption(): Option {
  return new Option('--threads <n>', 'ONNX Runtime threads (default: all cores)').argParser(
    intArg('--threads', 1, 256),
  );
}

/** `--seed <n>`, 0–2³¹−1; `description` says what it seeds and its default. */
export function seedOption(description: string): Option {
  return new Option('--seed <n>', description).argParser(intArg('--seed', 0, 2 ** 31 - 1));
}

/** `--k <n>`: how many results (1–`max`); `description` says of what and the default. */
export function kOption(description: string, max = 1000): Option {
  return new Option('--k <n>', description).argParser(intArg('--k', 1, max));
}

/** `--movie <title>`: one movie of the atlas, however the user names it. */
export function movieOption(): Option {
  return new Option('--movie <title>', 'movie, as "Title (Year)", title, slug or id');
}

/** `--fit <mode>`: how a still reaches 16:9 when it is standardised. */
function fitOption(): Option {
  return new Option('--fit <mode>', `how to reach 16:9: ${Object.keys(FITS).join('|')}`)
    .argParser(choiceArg('--fit', Object.keys(FITS) as FitMode[]))
    .default('letterbox');
}

/** `--concurrency <n>`: stills standardised at once, 1–256. */
export function concurrencyOption(): Option {
  return new Option('--concurrency <n>', 'stills standardised at once (default: 2 × cores)').argParser(
    intArg('--concurrency', 1, 256),
  );
}

/** How stills are standardised: `--fit` and `--concurrency`. */
export function addStandardiseOptions(cmd: Command): Command {
  return cmd.addOption(fitOption()).addOption(concurrencyOption());
}

/** The values of `addNewAtlasOptions`. */
export interface NewAtlasFlags {
  atlas: string;
  store?: string;
  endpoint?: string;
  storeStills?: boolean;
}

/**
 * The options of a command that adds stills and creates the atlas when it is missing:
 * `--atlas` and where a new atlas keeps its blobs (`--store`, `--endpoint`, `--store-stills`).
 */
export function addNewAtlasOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--atlas <dir>', 'atlas directory (created if missing)')
    .option(
      '--store <url>',
      'keep originals in s3://bucket/prefix (recorded in a new atlas; default: local files)',
    )
    .option('--endpoint <url>', 'S3-compatible server for --store (MinIO, R2, ...); path-style addressing')
    .option('--store-stills', 'keep standardised stills in --store too (default: local disk)');
}

/** Opens the atlas `addNewAtlasOptions` names, creating it (with its store) when missing. */
export function openNewAtlas(o: NewAtlasFlags): Promise<Atlas> {
  return openAtlas(o.atlas, {
    create: true,
    store: o.store,
    endpoint: o.endpoint,
    storeStills: o.storeStills,
  });
}
