import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { EMBEDDERS } from '../../embed/registry.js';
import { embedStills } from '../../embed/run.js';
import { AtlasError, unknownChoice } from '../../errors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption, threadsOption } from '../options.js';

interface EmbedFlags {
  atlas: string;
  model: string;
  weights?: string;
  preprocess: string;
  layer?: string;
  batch?: number;
  threads?: number;
  precision: string;
  redo?: boolean;
  json?: boolean;
}

export function registerEmbed(program: Command, run: Run): void {
  program
    .command('embed')
    .description(
      'embed every standardised still with a model; resumable, results in <atlas>/features/<model>/',
    )
    .addOption(atlasOption())
    .option('--model <id>', `embedder: ${Object.keys(EMBEDDERS).join('|')}`, 'vgg16')
    .option(
      '--weights <file>',
      'model weights: safetensors (torchvision or timm names) or ONNX (default: the cached `models pull` download)',
    )
    .option(
      '--preprocess <mode>',
      'pixel preprocessing for CNNs: imagenet|seed',
      choiceArg('--preprocess', ['imagenet', 'seed']),
      'imagenet',
    )
    .option('--layer <name>', 'output of an ONNX model to use (default: fc7 before ReLU)')
    .option(
      '--batch <n>',
      'stills per inference batch (default: vgg16 8, color 64)',
      intArg('--batch', 1, 1024),
    )
    .addOption(threadsOption())
    .option(
      '--precision <p>',
      'vgg16 arithmetic: fp32 (the reference) or int8 (quantised convolutions, faster; cosine to fp32 in the README)',
      choiceArg('--precision', ['fp32', 'int8']),
      'fp32',
    )
    .option('--redo', 'discard stored features of this model and embed everything again')
    .addOption(jsonOption())
    .action((o: EmbedFlags) =>
      run(o, async (ctx) => {
        if (!EMBEDDERS[o.model]) throw unknownChoice('model', o.model, Object.keys(EMBEDDERS));
        if (o.precision !== 'fp32' && o.model !== 'vgg16') {
          throw new AtlasError(
            'INVALID_ARGUMENT',
            `--precision ${o.precision} applies to vgg16 only, not '${o.model}'`,
            { value: o.precision },
          );
        }
        const atlas = await openAtlas(o.atlas);
        try {
          const r = await embedStills(atlas, {
            model: o.model,
            weights: o.weights,
            preprocess: o.preprocess,
            layer: o.layer,
            batch: o.batch,
            threads: o.threads,
            precision: o.precision,
            redo: o.redo,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'embed', atlas: atlas.paths.root, ...r },
            `${r.model}: embedded ${r.embedded} stills in ${r.seconds.toFixed(1)} s (${r.rate.toFixed(2)} stills/s), ` +
              `${r.skipped} already done, ${r.failed} failed; ${r.rows} × ${r.dim} features stored`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
