// `npm run brokers:up|down|status [-- name...]`: the local test brokers (see docs/brokers.md).
// Names: mosquitto, rabbitmq, kafka, postgres (default: all).
import { down, serverAddresses, serverNames, status, up, type ServerName } from './index.js';

function parseNames(args: readonly string[]): ServerName[] {
  for (const arg of args) {
    if (!(serverNames as readonly string[]).includes(arg))
      throw new Error(`unknown broker ${arg}; expected one of ${serverNames.join(', ')}`);
  }
  return args as ServerName[];
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const names = parseNames(rest);
  const started = Date.now();
  switch (command) {
    case 'up': {
      const result = await up(names);
      for (const name of names.length > 0 ? names : serverNames) {
        console.log(`${name.padEnd(10)} ${result[name]}`);
        for (const address of serverAddresses(name)) console.log(`  ${address}`);
      }
      console.log(
        `brokers up in ${((Date.now() - started) / 1000).toFixed(1)} s (logs and data in .brokers/; stop with npm run brokers:down)`,
      );
      break;
    }
    case 'down':
      await down(names);
      console.log(`brokers stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      break;
    case 'status': {
      const all = await status(names);
      for (const entry of all) {
        const state = entry.ready ? 'ready' : entry.pid ? 'starting or unhealthy' : 'stopped';
        console.log(`${entry.name.padEnd(10)} ${state}${entry.pid ? ` (pid ${entry.pid})` : ''}`);
        for (const address of entry.addresses) console.log(`  ${address}`);
      }
      if (all.some((entry) => !entry.ready)) process.exitCode = 3;
      break;
    }
    default:
      throw new Error('usage: cli.ts up|down|status [mosquitto|rabbitmq|kafka|postgres ...]');
  }
}

main().catch((error: unknown) => {
  // The message says what to do (e.g. which process holds a port); the stack only helps a developer here.
  console.error(error instanceof Error && !process.env.DEBUG ? error.message : error);
  process.exitCode = 1;
});
