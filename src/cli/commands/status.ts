import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { atlasStatus } from '../../status/status.js';
import type { Run } from '../main.js';
import { atlasOption } from '../options.js';

export function registerStatus(program: Command, run: Run): void {
  program
    .command('status')
    .description(
      'what an atlas holds: movies, stills, per-stage progress, and every rejected file with its reason',
    )
    .addOption(atlasOption())
    .option('--json', 'print one JSON object')
    .action((o: { atlas: string; json?: boolean }) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const s = await atlasStatus(atlas);
          if (ctx.json) {
            process.stdout.write(JSON.stringify(s) + '\n');
            return;
          }
          const lines = [
            `atlas        ${s.atlas}`,
            `movies       ${s.movies}`,
            `stills       ${s.stills}`,
            `standardised ${s.standardised}`,
            `pending      ${s.pending}`,
            `rejected     ${s.rejected.length}`,
          ];
          for (const [stage, v] of Object.entries(s.stages)) {
            if (stage === 'standardise') continue;
            lines.push(`${stage.padEnd(12)} ${v.done} done, ${v.pending} pending, ${v.failed} failed`);
          }
          if (s.rejected.length > 0) {
            lines.push('', 'rejected files:');
            for (const r of s.rejected) lines.push(`  ${r.file}\n      ${r.reason}`);
          }
          if (s.embedErrors.length > 0) {
            lines.push('', 'stills that failed to embed:');
            for (const e of s.embedErrors) lines.push(`  [${e.model}] ${e.file}\n      ${e.reason}`);
          }
          ctx.result(s, lines.join('\n'));
        } finally {
          await atlas.close();
        }
      }),
    );
}
