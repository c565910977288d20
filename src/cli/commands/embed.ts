import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { EMBEDDERS } from '../../embed/registry.js';
import { embedStills } from '../../embed/run.js';
import { unknownChoice } from '../../errors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';

interface EmbedFlags {
  atlas: string;
  model: string;
  weights?: string;
  preprocess: string;
  layer?: string;
  batch?: number;
  threads?: number;
  redo?: boolean;
  json?: boolean;
}

export function registerEmbed(program: Command, run: Run): void {
  program
    .command('embed')
    .description('embed every standardised still with a model; resumable, results in <atlas>/features/<model>/')
    .requiredOption('--atlas <dir>', 'atlas directory')
    .option('--model <id>', `embedder: ${Object.keys(EMBEDDERS).join('|')}`, 'vgg16')
    .option('--weights <file>', 'model weights: safetensors (torchvision or timm names) or ONNX (default: the cached `models pull` download)')
    .option('--preprocess <mode>', 'pixel preprocessing for CNNs: imagenet|seed', choiceArg('--preprocess', ['imagenet', 'seed']), 'imagenet')
    .option('--layer <name>', 'output of an ONNX model to use (default: fc7 before ReLU)')
    .option('--batch <n>', 'stills per inference batch (default: vgg16 8, color 64)', intArg('--batch', 1, 1024))
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', intArg('--threads', 1, 256))
    .option('--redo', 'discard stored features of this model and embed everything again')
    .option('--json', 'machine-readable output (JSON lines)')
    .action((o: EmbedFlags) =>
      run(o, async (ctx) => {
        if (!EMBEDDERS[o.model]) throw unknownChoice('model', o.model, Object.keys(EMBEDDERS));
        const atlas = openAtlas(o.atlas);
        try {
          const r = await embedStills(atlas, {
            model: o.model,
            weights: o.weights,
            preprocess: o.preprocess,
            layer: o.layer,
            batch: o.batch,
            threads: o.threads,
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
          atlas.close();
        }
      }),
    );
}
