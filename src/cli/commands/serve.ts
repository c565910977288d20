import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { openAtlas } from '../../atlas/atlas.js';
import { listLayouts } from '../../atlas/layouts.js';
import { deepZoomFile, layoutDir } from '../../atlas/paths.js';
import { renderGridDeepZoom } from '../../render/render.js';
import { startServer } from '../../server/server.js';
import { intArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption } from '../options.js';

interface ServeFlags {
  atlas: string;
  port: number;
  host: string;
  deepzoom?: boolean;
  log?: boolean;
  json?: boolean;
}

export function registerServe(program: Command, run: Run): void {
  program
    .command('serve')
    .description('browse an atlas in a local web explorer (read-only; map, stills, movies, clusters)')
    .addOption(atlasOption())
    .option(
      '--port <n>',
      'port to listen on; 0 picks a free one (default 4173)',
      intArg('--port', 0, 65535),
      4173,
    )
    .option(
      '--host <addr>',
      'interface to bind (default 127.0.0.1; 0.0.0.0 exposes the atlas to your network)',
      '127.0.0.1',
    )
    .option(
      '--deepzoom',
      'first render the deep-zoom tiles of grid layouts that have none (into <atlas>/maps/<grid>/)',
    )
    .option('--log', 'print a line per request')
    .addOption(jsonOption())
    .action((o: ServeFlags) =>
      run(o, async (ctx) => {
        if (o.deepzoom) {
          const atlas = await openAtlas(o.atlas, { readonly: true });
          try {
            for (const l of listLayouts(atlas)) {
              if (l.kind !== 'grid' || existsSync(deepZoomFile(atlas.paths, l.name))) continue;
              const r = await renderGridDeepZoom(atlas, {
                layout: l.name,
                out: layoutDir(atlas.paths, l.name),
                onProgress: ctx.progress.callback,
                signal: ctx.signal,
              });
              ctx.say(`deep zoom of '${l.name}': ${r.tiles} tiles in ${r.seconds.toFixed(1)} s`);
            }
          } finally {
            await atlas.close();
          }
        }
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const server = await startServer(atlas, {
            host: o.host,
            port: o.port,
            log: o.log ? (line) => process.stderr.write(line + '\n') : undefined,
          });
          const data = server.data;
          const grids = data.layouts.filter((l) => l.kind === 'grid');
          const missing = grids.filter((l) => !data.deepZoomFile(l.name)).map((l) => l.name);
          ctx.result(
            {
              command: 'serve',
              atlas: atlas.paths.root,
              url: server.url,
              movies: data.movies.length,
              stills: data.stills.length,
              layouts: data.layouts.map((l) => l.name),
              gridsWithoutTiles: missing,
            },
            `Film Atlas explorer for ${atlas.paths.root} (${data.movies.length} movies, ${data.stills.length} stills, ` +
              `${data.layouts.length} layouts) at ${server.url}\n` +
              (missing.length
                ? `grids without deep-zoom tiles (shown as points until rendered; add --deepzoom): ${missing.join(', ')}\n`
                : '') +
              'Ctrl-C to stop',
          );
          await new Promise<void>((ok) => {
            if (ctx.signal.aborted) ok();
            else ctx.signal.addEventListener('abort', () => ok(), { once: true });
          });
          await server.close();
        } finally {
          await atlas.close();
        }
      }),
    );
}
