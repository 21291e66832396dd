/**
 * The KEFU_TOKEN_KEY every test gives the processes it starts (`kefu worker` refuses to
 * store WeChat tokens unencrypted). One fixed key for all suites: their workers may share
 * the default token table, and a row must decrypt whichever suite wrote it. A test value,
 * never a production key.
 *
 * @example
 * ```ts
 * spawn(process.execPath, [bin, 'worker', …], { env: { ...process.env, ...TEST_TOKEN_ENV } });
 * ```
 */
export const TEST_TOKEN_KEY = 'a2VmdS10ZXN0LXRva2VuLWtleS0zMi1ieXRlcy0wMDA=';

/** The environment entries that configure {@link TEST_TOKEN_KEY}. */
export const TEST_TOKEN_ENV = { KEFU_TOKEN_KEY: TEST_TOKEN_KEY } as const;
