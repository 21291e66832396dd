import {
  closestMatch,
  createKefu,
  definePlugin,
  didYouMean,
  editDistance,
  parseKefuConfig,
  type RecordSink,
  TOKENS,
} from '@kefu/core';
import fc from 'fast-check';
import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('did you mean', () => {
  it('given the edit distance, then insertions, deletions, substitutions and neighbour swaps each cost one', () => {
    expect(editDistance('baseUrl', 'baseUrl')).toBe(0);
    expect(editDistance('baseUr', 'baseUrl')).toBe(1);
    expect(editDistance('baseUrll', 'baseUrl')).toBe(1);
    expect(editDistance('baseUrk', 'baseUrl')).toBe(1);
    expect(editDistance('bsaeUrl', 'baseUrl')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('a'.repeat(50), 'b'.repeat(50), 3)).toBe(4);
  });

  it('given a typo of a known word, then the known word is suggested; given an unrelated word, then nothing', () => {
    expect(closestMatch('baseUr', ['accounts', 'baseUrl', 'pageSize'])).toBe('baseUrl');
    expect(closestMatch('BASEURL', ['baseUrl'])).toBe('baseUrl');
    expect(closestMatch('@kefu/wechat', ['@kefu/wechat-mp', '@kefu/youmi'])).toBe('@kefu/wechat-mp');
    expect(closestMatch('@kefu/sink-dbb', ['@kefu/sink-db', '@kefu/sink-http'])).toBe('@kefu/sink-db');
    expect(closestMatch('colour', ['accounts', 'baseUrl'])).toBeUndefined();
    expect(closestMatch('x'.repeat(100_000), ['baseUrl'])).toBeUndefined();
    expect(didYouMean('provider', ['providers', 'sinks'])).toBe(' (did you mean `providers`?)');
    expect(didYouMean('zzz', ['providers', 'sinks'])).toBe('');
  });

  it('given any known key of 6+ characters with one character dropped, inserted or changed, then it is suggested back (property)', () => {
    const keys = [
      'accounts',
      'baseUrl',
      'tokenEndpoint',
      'refreshMarginMs',
      'pageSize',
      'deadLetterPath',
      'subjectPrefix',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.nat(),
        fc.constantFrom('drop', 'insert', 'change'),
        fc.constantFrom('q', 'z', 'X', '_'),
        (key, at, edit, letter) => {
          const index = at % key.length;
          const typo =
            edit === 'drop'
              ? key.slice(0, index) + key.slice(index + 1)
              : edit === 'insert'
                ? key.slice(0, index) + letter + key.slice(index)
                : key.slice(0, index) + letter + key.slice(index + 1);
          fc.pre(typo !== key);
          expect(closestMatch(typo, keys)).toBe(key);
        },
      ),
    );
  });
});

describe('kefu config: unknown keys are errors with the nearest known key', () => {
  it('given `provider:` and `sync.batchsize`, when parsed, then KEFU_CONFIG_INVALID names both keys and suggests `providers` and `batchSize`', () => {
    expect(() => parseKefuConfig({ provider: [], sync: { batchsize: 10 } }, { source: 'kefu.yaml' })).toThrow(
      expect.objectContaining({
        code: 'KEFU_CONFIG_INVALID',
        details: expect.objectContaining({
          issues: expect.arrayContaining([
            'provider: unknown key `provider` (did you mean `providers`?)',
            'sync.batchsize: unknown key `batchsize` (did you mean `batchSize`?)',
          ]),
        }),
      }),
    );
  });

  it('given an unknown key with no near match, when parsed, then the message lists the known keys', () => {
    expect(() => parseKefuConfig({ logger: { colour: true } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('unknown key `colour`; known keys: level') }),
    );
  });
});

describe('ids: the nearest configured one', () => {
  it('given a sink id with a typo, when asked for, then KEFU_SINK_NOT_FOUND suggests the configured id', async () => {
    const sinkPlugin = definePlugin({
      name: 'test-sink',
      kind: 'sink',
      configSchema: z.strictObject({}),
      module: (_config, context) =>
        new ContainerModule((options) => {
          const sink: RecordSink = {
            id: context.instanceId,
            guarantee: 'at-least-once',
            write: async () => {},
            close: async () => {},
          };
          options.bind(TOKENS.Sink).toConstantValue(sink);
        }),
    });
    const kefu = await createKefu({ sinks: [{ use: sinkPlugin, id: 'warehouse' }], logger: { level: 'error' } });
    try {
      expect(() => kefu.sink('warehose')).toThrow(
        expect.objectContaining({
          code: 'KEFU_SINK_NOT_FOUND',
          message: 'no sink "warehose" (did you mean `warehouse`?); configured sinks: warehouse',
        }),
      );
    } finally {
      await kefu.close();
    }
  });
});
