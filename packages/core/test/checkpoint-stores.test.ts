import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Checkpoint,
  FileCheckpointStore,
  MemoryCheckpointStore,
  type ResettableCheckpointStore,
} from '@kefu/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const at = (position: number, skip = 0): Checkpoint => ({
  provider: 'p',
  account: 'a',
  position,
  skip,
  recordAt: '2026-11-01T00:00:00.000Z',
});
const empty: Checkpoint = { provider: 'p', account: 'a', position: null, skip: 0 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-checkpoints-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => ResettableCheckpointStore]> = [
  ['MemoryCheckpointStore', () => new MemoryCheckpointStore()],
  ['FileCheckpointStore', () => new FileCheckpointStore({ path: join(dir, 'state', 'checkpoints.json') })],
];

describe.each(stores)('%s', (_name, create) => {
  it('given nothing saved, then load returns undefined', async () => {
    expect(await create().load('job/p/a')).toBeUndefined();
  });

  it('given saves of two keys, then each loads back its own latest checkpoint', async () => {
    const store = create();
    await store.save('job/p/a', at(1));
    await store.save('job/p/b', at(7, 2));
    await store.save('job/p/a', at(3, 1));
    expect(await store.load('job/p/a')).toEqual(at(3, 1));
    expect(await store.load('job/p/b')).toEqual(at(7, 2));
    expect((await store.entries()).map(([key]) => key).sort()).toEqual(['job/p/a', 'job/p/b']);
  });

  it('given a stored checkpoint, when an empty one is saved over it, then it is refused and the old one stays', async () => {
    const store = create();
    await store.save('k', at(5));
    await expect(store.save('k', empty)).rejects.toMatchObject({
      code: 'KEFU_CHECKPOINT_INVALID',
      message: expect.stringContaining('empty'),
    });
    expect(await store.load('k')).toEqual(at(5));
  });

  it('given a malformed checkpoint, then save rejects naming the field', async () => {
    const store = create();
    await expect(store.save('k', { ...at(1), skip: -2 })).rejects.toMatchObject({
      code: 'KEFU_CHECKPOINT_INVALID',
      message: expect.stringContaining('skip'),
    });
    await expect(store.save('', at(1))).rejects.toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID' });
  });

  it('given a deleted key, then the stream can start again from an empty checkpoint', async () => {
    const store = create();
    await store.save('k', at(5));
    expect(await store.delete('k')).toBe(true);
    expect(await store.delete('k')).toBe(false);
    await store.save('k', empty);
    expect(await store.load('k')).toEqual(empty);
  });

  it('given 50 concurrent saves to 5 keys, then every key holds its last saved checkpoint', async () => {
    const store = create();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.save(`k${i % 5}`, at(i + 1))));
    for (let k = 0; k < 5; k++) expect(await store.load(`k${k}`)).toEqual(at(45 + k + 1));
  });
});

describe('FileCheckpointStore on disk', () => {
  it('given a save, then the file has mode 0600, holds every key as JSON and leaves no temp file', async () => {
    const path = join(dir, 'checkpoints.json');
    const store = new FileCheckpointStore({ path });
    await store.save('a', at(1));
    await store.save('b', at(2));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, checkpoints: { a: at(1), b: at(2) } });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('given a second store on the same file, then it loads what the first saved', async () => {
    const path = join(dir, 'checkpoints.json');
    await new FileCheckpointStore({ path }).save('k', at(9));
    expect(await new FileCheckpointStore({ path }).load('k')).toEqual(at(9));
  });

  it('given a file that is not JSON, then load fails with KEFU_CHECKPOINT_INVALID naming the path and the fix, and save does not clobber it', async () => {
    const path = join(dir, 'checkpoints.json');
    await writeFile(path, '{"version":1,"checkpoints":{"k":', 'utf8');
    const store = new FileCheckpointStore({ path });
    const error = await store.load('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID', details: { path } });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/Repair it, or move it away/);
    await expect(store.save('k', at(1))).rejects.toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID' });
    expect(await readFile(path, 'utf8')).toBe('{"version":1,"checkpoints":{"k":');
  });

  it('given a file whose checkpoint has the wrong shape, then the error names the field', async () => {
    const path = join(dir, 'checkpoints.json');
    await writeFile(path, JSON.stringify({ version: 1, checkpoints: { k: { provider: 'p', position: 1 } } }), 'utf8');
    await expect(new FileCheckpointStore({ path }).load('k')).rejects.toMatchObject({
      code: 'KEFU_CHECKPOINT_INVALID',
      message: expect.stringContaining('checkpoints.k.account'),
    });
  });

  it('given a temp file left by a crash mid-save, then the stored state is the previous one', async () => {
    const path = join(dir, 'checkpoints.json');
    const store = new FileCheckpointStore({ path });
    await store.save('k', at(1));
    // A crash between writing the temp file and the rename leaves exactly this behind.
    await writeFile(join(dir, '.checkpoints.json.999.abc.tmp'), '{"version":1,"checkp', 'utf8');
    expect(await new FileCheckpointStore({ path }).load('k')).toEqual(at(1));
  });

  it('given options without a path, then construction fails with KEFU_CONFIG_INVALID', () => {
    expect(() => new FileCheckpointStore({} as { path: string })).toThrowError(
      expect.objectContaining({ code: 'KEFU_CONFIG_INVALID', message: expect.stringContaining('path') }),
    );
  });
});
