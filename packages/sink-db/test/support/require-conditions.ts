import { registerHooks } from 'node:module';

/**
 * Test-only shim. The root vitest config passes its resolve conditions to the workers as
 * `--conditions import …`, which makes CommonJS `require()` pick a dual package's ESM
 * entry: `pg` then gets pg-pool's module namespace instead of its class and cannot load.
 * Here a CommonJS `require()` resolves without the `import` condition, as it does outside
 * vitest. Remove once the root config stops exporting `import` as a Node condition.
 */
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (context.conditions?.includes('require') && context.conditions.includes('import')) {
      return nextResolve(specifier, { ...context, conditions: context.conditions.filter((c) => c !== 'import') });
    }
    return nextResolve(specifier, context);
  },
});
