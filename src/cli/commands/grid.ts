import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { DEFAULT_GRID, GRIDS, gridLayout, gridMethod, parseShape } from '../../layout/grid.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption, seedOption } from '../options.js';

interface GridFlags {
  atlas: string;
  layout: string;
  name: string;
  shape?: string;
  method: string;
  seed?: number;
  json?: boolean;
}

export function registerGrid(program: Command, run: Run): void {
  program
    .command('grid')
    .description(
      'snap a 2-D layout to a grid, one still a cell (RasterFairy semantics, better assignment); writes a grid layout',
    )
    .addOption(atlasOption())
    .requiredOption('--layout <name>', 'points layout to snap (e.g. pca)')
    .requiredOption('--name <name>', 'name of the grid layout to write (e.g. pca-grid)')
    .option(
      '--shape <COLSxROWS>',
      'grid size, width × height in cells, at least one cell a still (default: most square exact arrangement, else near-square with a few empty cells)',
    )
    .option('--method <name>', `assignment: ${Object.keys(GRIDS).join('|')}`, DEFAULT_GRID)
    .addOption(seedOption('seed for the random steps (default 0)'))
    .addOption(jsonOption())
    .action((o: GridFlags) =>
      run(o, async (ctx) => {
        gridMethod(o.method); // unknown names fail before the atlas is opened
        const shape = o.shape === undefined ? undefined : parseShape(o.shape);
        const atlas = await openAtlas(o.atlas);
        try {
          const r = await gridLayout(atlas, {
            layout: o.layout,
            name: o.name,
            shape,
            method: o.method,
            seed: o.seed,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'grid', atlas: atlas.paths.root, ...r },
            `${r.name}: ${r.n} stills from '${r.source}' on a ${r.cols}x${r.rows} grid` +
              (r.emptyCells ? ` (${r.emptyCells} empty cells)` : '') +
              ` by ${r.method} in ${r.seconds.toFixed(2)} s; recall@10 ${r.recall10.toFixed(3)}, mean displacement ${r.meanDisplacement.toFixed(3)}`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
