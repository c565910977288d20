import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../helpers/tmp.js';

/** The code files under `dir` (recursively), as `npm run lint` (`eslint .`) should see them. */
function codeFiles(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx|js|mjs|cjs)$/.test(f) && !f.startsWith('out/'))
    .map((f) => join(REPO_ROOT, dir, f))
    .sort();
}

test('npm run lint covers the web app, the benchmarks and the scripts as it covers src/ and test/', async () => {
  const eslint = new ESLint({ cwd: REPO_ROOT });
  const files = ['web', 'bench', 'scripts', 'src', 'test'].flatMap(codeFiles);
  for (const dir of ['web/src', 'bench', 'scripts'])
    assert.ok(
      files.some((f) => f.startsWith(join(REPO_ROOT, dir) + '/')),
      `no code files found under ${dir}`,
    );
  for (const file of files) {
    const name = relative(REPO_ROOT, file);
    assert.equal(await eslint.isPathIgnored(file), false, `${name} is ignored by eslint.config.js`);
    const config = (await eslint.calculateConfigForFile(file)) as
      { rules?: Record<string, unknown> } | undefined;
    assert.ok(config, `${name} matches no configuration in eslint.config.js`);
    const unused = config.rules?.['@typescript-eslint/no-unused-vars'] as unknown[] | undefined;
    assert.equal(unused?.[0], 2, `${name}: the project's rules are not applied`);
  }
});
