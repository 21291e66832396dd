import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Checkpoint, FileCheckpointStore } from '@kefu/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A store keeps the file it last read or wrote and parses it again only when the text on
// disk differs: these tests change the file between saves, as another process would.

const at = (position: number, skip = 0): Checkpoint => ({
  provider: 'p',
  account: 'a',
  position,
  skip,
  recordAt: '2026-11-01T00:00:00.000Z',
});
const empty: Checkpoint = { provider: 'p', account: 'a', position: null, skip: 0 };

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kefu-checkpoints-shared-'));
  path = join(dir, 'checkpoints.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const onDisk = async () => JSON.parse(await readFile(path, 'utf8')) as unknown;

/** Replaces the file as another kefu process does: a new file renamed over it. */
async function replaceFile(text: string): Promise<void> {
  const temporary = join(dir, '.other-process.tmp');
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, path);
}

describe('FileCheckpointStore shared with other writers', () => {
  it('given another store on the same path saving between two saves, then the file keeps both keys', async () => {
    const first = new FileCheckpointStore({ path });
    const second = new FileCheckpointStore({ path });
    await first.save('a', at(1));
    await second.save('b', at(2));
    await first.save('a', at(3));
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: at(3), b: at(2) } });
    await second.save('b', at(4));
    expect(await first.entries()).toEqual([
      ['a', at(3)],
      ['b', at(4)],
    ]);
    expect(await second.load('a')).toEqual(at(3));
  });

  it('given the file replaced by another process between saves, then the next save keeps its keys', async () => {
    const store = new FileCheckpointStore({ path });
    await store.save('a', at(1));
    await replaceFile(JSON.stringify({ version: 1, checkpoints: { a: at(1), other: at(8, 1) } }));
    await store.save('a', at(2));
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: at(2), other: at(8, 1) } });
  });

  it('given the file edited in place to the same length between saves, then the next save sees the edit', async () => {
    const store = new FileCheckpointStore({ path });
    await store.save('a', at(1));
    await store.save('b', at(5));
    const text = await readFile(path, 'utf8');
    const edited = text.replace('"position": 5', '"position": 6');
    expect(edited.length).toBe(text.length);
    await writeFile(path, edited, 'utf8');
    await store.save('a', at(2));
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: at(2), b: at(6) } });
  });

  it('given the file replaced by one that is not JSON between saves, then save fails with KEFU_CHECKPOINT_INVALID and leaves it, and works again once it is repaired', async () => {
    const store = new FileCheckpointStore({ path });
    await store.save('a', at(1));
    await replaceFile('{"version":1,"checkpoints":{"a":');
    const error = await store.save('a', at(2)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID', details: { path } });
    expect((error as Error).message).toMatch(/is corrupt: it is not valid JSON .*Repair it, or move it away/);
    await expect(store.load('a')).rejects.toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID' });
    expect(await readFile(path, 'utf8')).toBe('{"version":1,"checkpoints":{"a":');
    await replaceFile(JSON.stringify({ version: 1, checkpoints: { a: at(1) } }));
    await store.save('a', at(2));
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: at(2) } });
  });

  it('given a key of the wrong shape written by another process between saves, then save fails naming the field', async () => {
    const store = new FileCheckpointStore({ path });
    await store.save('a', at(1));
    await replaceFile(JSON.stringify({ version: 1, checkpoints: { a: at(1), b: { provider: 'p', skip: 0 } } }));
    await expect(store.save('a', at(2))).rejects.toMatchObject({
      code: 'KEFU_CHECKPOINT_INVALID',
      message: expect.stringContaining('checkpoints.b.account'),
    });
    await expect(store.delete('a')).rejects.toMatchObject({ code: 'KEFU_CHECKPOINT_INVALID' });
  });

  it('given a stored checkpoint written by another process, then an empty one is still refused over it', async () => {
    const store = new FileCheckpointStore({ path });
    await store.save('a', empty);
    await replaceFile(JSON.stringify({ version: 1, checkpoints: { a: at(4) } }));
    await expect(store.save('a', empty)).rejects.toMatchObject({
      code: 'KEFU_CHECKPOINT_INVALID',
      message: expect.stringContaining('empty'),
    });
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: at(4) } });
  });

  it('given the directory removed between saves, then the next save makes it again and leaves no temp file', async () => {
    const nested = join(dir, 'state', 'checkpoints.json');
    const store = new FileCheckpointStore({ path: nested });
    await store.save('a', at(1));
    await rm(join(dir, 'state'), { recursive: true });
    await store.save('b', at(2));
    expect(JSON.parse(await readFile(nested, 'utf8'))).toEqual({ version: 1, checkpoints: { b: at(2) } });
    expect(await readdir(join(dir, 'state'))).toEqual(['checkpoints.json']);
  });

  it('given a caller changing its objects after save or load, then what is stored does not change', async () => {
    const store = new FileCheckpointStore({ path });
    const saved = { ...at(1), position: { cursor: 1 } };
    await store.save('a', saved);
    saved.position.cursor = 99;
    const loaded = await store.load('a');
    (loaded?.position as { cursor: number }).cursor = 98;
    await store.save('b', at(2));
    expect(await store.load('a')).toEqual({ ...at(1), position: { cursor: 1 } });
    expect(await onDisk()).toEqual({ version: 1, checkpoints: { a: { ...at(1), position: { cursor: 1 } }, b: at(2) } });
  });
});

type Command =
  | { store: 0 | 1; op: 'save'; key: string; position: number | null }
  | { store: 0 | 1; op: 'delete'; key: string };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      store: fc.constantFrom(0 as const, 1 as const),
      op: fc.constant('save' as const),
      key: fc.constantFrom('job/p/a', 'job/p/b', 'job/p/c'),
      // null: an empty checkpoint, refused over a stored non-empty one.
      position: fc.option(fc.integer({ min: 1, max: 1_000 }), { freq: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      store: fc.constantFrom(0 as const, 1 as const),
      op: fc.constant('delete' as const),
      key: fc.constantFrom('job/p/a', 'job/p/b', 'job/p/c'),
    }),
  },
);

describe('FileCheckpointStore, two stores on one path (property)', () => {
  it('interleaved saves and deletes of two stores leave the file, and what each store reads, equal to a model map', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { minLength: 1, maxLength: 16 }), async (commands) => {
        const file = join(dir, `run-${run++}`, 'checkpoints.json');
        const stores = [new FileCheckpointStore({ path: file }), new FileCheckpointStore({ path: file })] as const;
        const model = new Map<string, Checkpoint>();
        for (const command of commands) {
          const store = stores[command.store];
          if (command.op === 'delete') {
            expect(await store.delete(command.key)).toBe(model.delete(command.key));
          } else {
            const checkpoint = command.position === null ? empty : at(command.position);
            const stored = model.get(command.key);
            if (stored && stored.position !== null && command.position === null) {
              await expect(store.save(command.key, checkpoint)).rejects.toMatchObject({
                code: 'KEFU_CHECKPOINT_INVALID',
              });
            } else {
              await store.save(command.key, checkpoint);
              model.set(command.key, checkpoint);
            }
          }
          // Read straight from disk: reading through the stores would refresh what they hold.
          const text = await readFile(file, 'utf8').catch(() => undefined);
          if (text !== undefined)
            expect(JSON.parse(text)).toEqual({ version: 1, checkpoints: Object.fromEntries(model) });
          else expect(model.size).toBe(0);
        }
        const sorted = (entries: Array<[string, Checkpoint]>) => entries.sort(([a], [b]) => a.localeCompare(b));
        expect(sorted(await stores[0].entries())).toEqual(sorted([...model]));
        expect(sorted(await stores[1].entries())).toEqual(sorted([...model]));
      }),
      { numRuns: 60 },
    );
  });
});
