import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { EXPORT_FORMATS, exportFeatures, type ExportFormat } from '../../export/features.js';
import { atlasFeatureSource } from '../../export/source.js';
import { exportLayout, LAYOUT_EXPORT_FORMATS, type LayoutExportFormat } from '../../export/layout.js';
import { choiceArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption } from '../options.js';

export function registerExport(program: Command, run: Run): void {
  const exp = program
    .command('export')
    .description('export atlas data for notebooks (npy, HDF5, Parquet, CSV, JSON)');
  exp
    .command('features')
    .description('export a feature matrix with its still ids and movies')
    .addOption(atlasOption())
    .option('--model <id>', 'which features', 'vgg16')
    .requiredOption(
      '--format <fmt>',
      Object.keys(EXPORT_FORMATS).join('|'),
      choiceArg('--format', Object.keys(EXPORT_FORMATS) as ExportFormat[]),
    )
    .requiredOption('--out <file>', 'output file')
    .addOption(jsonOption())
    .action((o: { atlas: string; model: string; format: ExportFormat; out: string; json?: boolean }) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const source = await atlasFeatureSource(atlas, o.model);
          const r = await exportFeatures(source, o.format, o.out, {
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'export features', ...r },
            `wrote ${r.rows} × ${r.dim} ${o.model} features to ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.format})`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
  exp
    .command('layout <name>')
    .description('export a stored layout (map or grid): still ids, movies, ordinals and coordinates')
    .addOption(atlasOption())
    .requiredOption(
      '--format <fmt>',
      LAYOUT_EXPORT_FORMATS.join('|'),
      choiceArg('--format', LAYOUT_EXPORT_FORMATS),
    )
    .requiredOption('--out <file>', 'output file')
    .addOption(jsonOption())
    .action((name: string, o: { atlas: string; format: LayoutExportFormat; out: string; json?: boolean }) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const r = await exportLayout(atlas, name, o.format, o.out);
          ctx.result(
            { command: 'export layout', ...r },
            `wrote the ${r.n} stills of ${r.kind} layout '${r.layout}' to ${r.path} (${r.format}, ${r.bytes} bytes)`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
