import type { Command } from 'commander';
import { EMBEDDERS } from '../../embed/registry.js';
import { findCachedModel, MODELS, pullModel } from '../../embed/pull.js';
import { modelCacheDir } from '../../embed/cache.js';
import type { Run } from '../main.js';
import { jsonOption } from '../options.js';

export function registerModels(program: Command, run: Run): void {
  const models = program.command('models').description('model weights: list what is cached, download');
  models
    .command('list')
    .description('embedders and whether their weights are cached')
    .addOption(jsonOption())
    .action((o: { json?: boolean }) =>
      run(o, async (ctx) => {
        const rows = Object.entries(EMBEDDERS).map(([id, e]) => ({
          id,
          dim: e.dim,
          description: e.description,
          needsWeights: e.needsWeights,
          cached: e.needsWeights ? (findCachedModel(id) ?? null) : null,
        }));
        ctx.result(
          { command: 'models list', cacheDir: modelCacheDir(), models: rows },
          rows
            .map(
              (r) =>
                `${r.id.padEnd(8)} ${String(r.dim).padStart(5)}-d  ${r.needsWeights ? (r.cached ? `weights: ${r.cached}` : 'weights: not downloaded (filmatlas models pull ' + r.id + ')') : 'no weights needed'}\n         ${r.description}`,
            )
            .join('\n'),
        );
      }),
    );
  models
    .command('pull')
    .description('download model weights into the cache (resumable, sha256-verified)')
    .argument('<model>', `one of: ${Object.keys(MODELS).join(', ')}`)
    .option('--from <url>', 'download from this mirror URL instead')
    .option('--sha256 <hex>', 'expected sha256 of the file (overrides the pinned one)')
    .addOption(jsonOption())
    .action((name: string, o: { from?: string; sha256?: string; json?: boolean }) =>
      run(o, async (ctx) => {
        const r = await pullModel(name, {
          from: o.from,
          sha256: o.sha256,
          onProgress: ctx.progress.callback,
          signal: ctx.signal,
        });
        ctx.result(
          { command: 'models pull', model: name, ...r },
          `${name}: ${r.alreadyCached ? 'already cached' : 'downloaded'} ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 ${r.sha256.slice(0, 16)}…, verified: ${r.verified})`,
        );
      }),
    );
}
