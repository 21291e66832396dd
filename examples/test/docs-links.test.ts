import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// The examples are only useful if people find them: the README lists every one, and the
// docs index points at them.

const repo = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, repo), 'utf8');

describe('examples in the docs', () => {
  it('given the examples, then the README links each one and the docs index links the list', async () => {
    const examples = (await readdir(new URL('examples/src/', repo))).filter((name) => name.endsWith('.ts'));
    expect(examples.length).toBeGreaterThan(5);
    const readme = await read('README.md');
    for (const name of examples) expect(readme, name).toContain(`(examples/src/${name})`);
    const list = await read('examples/README.md');
    for (const name of examples) expect(list, name).toContain(`(src/${name})`);
    expect(await read('docs/README.md')).toContain('(../examples/README.md)');
  });

  it('given a shell pipeline over several files into jq, then head runs quiet (-q): no "==> file <==" headers for jq to choke on', async () => {
    const getStarted = await read('docs/getting-started.md');
    expect(getStarted).toContain('head -qn 2 kefu-demo/records/wechat-mp/*/*.jsonl | jq .');
    const unquiet = getStarted.split('\n').filter((line) => /\bhead -n \d+ \S*\*\S* \| jq/.test(line));
    expect(unquiet).toEqual([]);
  });
});
