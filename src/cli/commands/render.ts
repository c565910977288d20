import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { AtlasError } from '../../errors.js';
import { parseCellSize } from '../../render/cells.js';
import { renderGridDeepZoom, renderGridMosaic, renderLayoutPlot } from '../../render/render.js';
import { intArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption } from '../options.js';

interface RenderFlags {
  atlas: string;
  layout: string;
  mosaic?: string;
  deepzoom?: string;
  plot?: string;
  cell?: string;
  colorBy: string;
  clusters?: string;
  top?: number;
  width?: number;
  height?: number;
  quality?: number;
  json?: boolean;
}

export function registerRender(program: Command, run: Run): void {
  program
    .command('render')
    .description(
      'draw a layout: a mosaic PNG or a deep-zoom pyramid of a grid, or a scatter plot (PNG/SVG) of any layout',
    )
    .addOption(atlasOption())
    .requiredOption('--layout <name>', 'layout to draw (a grid layout for --mosaic and --deepzoom)')
    .option(
      '--mosaic <file.png>',
      'write a mosaic PNG, each cell its still (up to ~268 Mpx; bigger grids: --deepzoom)',
    )
    .option(
      '--deepzoom <dir|file.dzi>',
      'write a Deep Zoom pyramid: <dir>/<layout>.dzi + <dir>/<layout>_files/ (tiles 256 px, JPEG)',
    )
    .option('--plot <file.png|file.svg>', 'write a scatter plot of the layout')
    .option('--cell <WxH>', 'cell size in px (default: mosaic 112x63, deep zoom 224x126)')
    .option(
      '--color-by <what>',
      'plot colours: movie|cluster|director|year|cinematographer|… or a movie attribute (e.g. family)',
      'movie',
    )
    .option('--clusters <name>', 'which stored clustering to colour by (default: the only/first one)')
    .option('--top <n>', 'plot legend: categories before "other" (default 12)', intArg('--top', 1, 12))
    .option('--width <px>', 'plot width (default 1600)', intArg('--width', 200, 20000))
    .option('--height <px>', 'plot height (default 1200)', intArg('--height', 200, 20000))
    .option('--quality <q>', 'deep-zoom JPEG quality (default 80)', intArg('--quality', 1, 100))
    .addOption(jsonOption())
    .action((o: RenderFlags) =>
      run(o, async (ctx) => {
        const outputs = [o.mosaic, o.deepzoom, o.plot].filter((v) => v !== undefined).length;
        if (outputs === 0) {
          throw new AtlasError(
            'INVALID_ARGUMENT',
            'render needs an output: --mosaic FILE.png, --deepzoom DIR or --plot FILE.png|FILE.svg',
            {
              suggestion: 'e.g. filmatlas render --atlas DIR --layout pca-grid --mosaic mosaic.png',
            },
          );
        }
        const cell = o.cell === undefined ? undefined : parseCellSize(o.cell);
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const results: Record<string, unknown> = {};
          const lines: string[] = [];
          if (o.mosaic !== undefined) {
            const r = await renderGridMosaic(atlas, {
              layout: o.layout,
              out: o.mosaic,
              cellWidth: cell?.width,
              cellHeight: cell?.height,
              onProgress: ctx.progress.callback,
              signal: ctx.signal,
            });
            results.mosaic = r;
            lines.push(
              `mosaic ${r.path}: ${r.width}×${r.height} px, ${r.cells} cells in ${r.seconds.toFixed(1)} s` +
                (r.missing ? ` (${r.missing} stills unreadable, drawn black)` : ''),
            );
          }
          if (o.deepzoom !== undefined) {
            const r = await renderGridDeepZoom(atlas, {
              layout: o.layout,
              out: o.deepzoom,
              cellWidth: cell?.width,
              cellHeight: cell?.height,
              quality: o.quality,
              onProgress: ctx.progress.callback,
              signal: ctx.signal,
            });
            results.deepzoom = r;
            lines.push(
              `deep zoom ${r.dzi}: ${r.width}×${r.height} px, ${r.levels} levels, ${r.tiles} tiles in ${r.seconds.toFixed(1)} s` +
                (r.missing ? ` (${r.missing} stills unreadable, drawn black)` : ''),
            );
          }
          if (o.plot !== undefined) {
            const r = await renderLayoutPlot(atlas, {
              layout: o.layout,
              out: o.plot,
              colorBy: o.colorBy,
              clusters: o.clusters,
              top: o.top,
              width: o.width,
              height: o.height,
            });
            results.plot = r;
            lines.push(
              `plot ${r.path}: ${r.points} stills coloured by ${o.colorBy}, ${r.legend.length} legend entries`,
            );
          }
          ctx.result(
            { command: 'render', atlas: atlas.paths.root, layout: o.layout, ...results },
            lines.join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
