/**
 * Child process running the emulator, so benchmarks measure kefu's process alone and the
 * two do not share one event loop. Prints one JSON line `{ url, appId, secret }`, then
 * serves until its stdin closes or it receives SIGTERM.
 * Usage: node emulator-process.js '<EmulatorOptions as JSON>'
 */
import { startEmulator } from '@kefu/emulator';

const emulator = await startEmulator(JSON.parse(process.argv[2] ?? '{}'));
const account = emulator.wechat.accounts[0];
process.stdout.write(`${JSON.stringify({ url: emulator.url, appId: account?.appId, secret: account?.secret })}\n`);
const stop = () => {
  void emulator.stop().then(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
