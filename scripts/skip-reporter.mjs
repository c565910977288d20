// A node:test reporter for scripts/run-tests.mjs: writes one JSON line per skipped test or
// suite ({ file, names, reason, suite }) and one per line of the runner's closing summary
// ({ summary }), so that the runner can list what was skipped and why after its summary.
// Node 20's summary counts skipped tests but names none, and a skipped suite not at all.

const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

export default async function* skipReporter(source) {
  // The names of the tests running in each file, by nesting level: events of one file
  // arrive in order, while files run in parallel, so each file has its own stack.
  const running = new Map();
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:start') {
      const stack = running.get(data.file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      running.set(data.file, stack);
    } else if (
      (type === 'test:pass' || type === 'test:fail') &&
      data.skip !== undefined &&
      data.skip !== false
    ) {
      const parents = (running.get(data.file) ?? []).slice(0, data.nesting);
      yield (
        JSON.stringify({
          file: data.file ?? '',
          names: [...parents, data.name],
          reason: typeof data.skip === 'string' ? data.skip : '',
          suite: data.details?.type === 'suite',
        }) + '\n'
      );
    } else if (type === 'test:diagnostic' && data.nesting === 0 && SUMMARY.test(data.message)) {
      yield JSON.stringify({ summary: data.message }) + '\n';
    }
  }
}
