import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where downloaded weights and built ONNX models live:
 * `$FILMATLAS_CACHE`, else `$XDG_CACHE_HOME/filmatlas`, else `~/.cache/filmatlas`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FILMATLAS_CACHE) return env.FILMATLAS_CACHE;
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'filmatlas');
}

/** The cache sub-folder for model files. */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'models');
}
