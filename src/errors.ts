/**
 * One small error hierarchy for the whole library. Every error carries a stable
 * `code`, the offending value or path where there is one, and a suggestion a user
 * can act on. Library code throws these; only the CLI turns them into exit codes.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // a caller/user passed a bad option value
  | 'BAD_IMAGE' // an input file is not a usable still (corrupt, tiny, bomb, ...)
  | 'BAD_MANIFEST' // movies.csv / movies.json is malformed
  | 'NOT_FOUND' // a file, movie, still or model that was asked for does not exist
  | 'ATLAS' // the atlas directory is missing, corrupt or from a newer version
  | 'STATE' // something changed under us (e.g. feature dimension changed mid-run)
  | 'MODEL' // model weights malformed (wrong tensor names/shapes), ONNX problems
  | 'NETWORK' // a download failed
  | 'CHECKSUM' // a downloaded or cached file does not match its expected hash
  | 'ABORTED' // the run was cancelled (Ctrl-C / AbortSignal)
  | 'IO'; // other filesystem errors

export interface AtlasErrorOptions {
  /** The offending file path, URL or value, shown to the user. */
  value?: string;
  /** What the user can do about it. */
  suggestion?: string;
  cause?: unknown;
}

export class AtlasError extends Error {
  readonly code: ErrorCode;
  readonly value?: string;
  readonly suggestion?: string;

  constructor(code: ErrorCode, message: string, options: AtlasErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtlasError';
    this.code = code;
    this.value = options.value;
    this.suggestion = options.suggestion;
  }
}

/** `expected a positive integer for --batch but got 'spoons'` (after sharp's invalidParameterError). */
export function invalidArgument(name: string, expected: string, actual: unknown): AtlasError {
  const shown = typeof actual === 'string' ? `'${actual}'` : String(actual);
  return new AtlasError('INVALID_ARGUMENT', `expected ${expected} for ${name} but got ${shown}`, {
    value: shown,
  });
}

/** An unknown name in a lookup table: "unknown model 'vgg19': must be one of [vgg16, color]". */
export function unknownChoice(what: string, actual: string, known: readonly string[]): AtlasError {
  return new AtlasError(
    'INVALID_ARGUMENT',
    `unknown ${what} '${actual}': must be one of [${known.join(', ')}]`,
    {
      value: actual,
    },
  );
}

/** Short, single-line description of any thrown value (for per-still error records). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AtlasError('ABORTED', 'the run was cancelled; run the same command again to resume');
}
