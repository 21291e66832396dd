/**
 * Runs `work` for every item, at most `concurrency` at a time, each item once, in order
 * of start. Once `signal` aborts, items not yet started are passed over (the ones running
 * finish on their own). Resolves when every started item has finished.
 */
export async function runWithConcurrency<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      if (signal.aborted) continue;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
