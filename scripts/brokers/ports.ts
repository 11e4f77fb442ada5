// Before a local broker starts: its ports must be free. A port held by another process (a system broker,
// another checkout's brokers under a different user) would make the broker fail deep in its own start-up
// (Kafka with a Java stack trace); instead, name the holder and how to point the tests elsewhere.
import { createServer } from 'node:net';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { envVariables, host, localServers, serverPorts, type ServerName } from './config.js';

/** Rejects with a readable message naming each held port's process when one of `name`'s ports is taken. */
export async function assertPortsFree(name: ServerName): Promise<void> {
  const held: number[] = [];
  for (const port of serverPorts[name]) if (!(await canListen(port))) held.push(port);
  if (held.length === 0) return;
  const lines = await Promise.all(
    held.map(async (port) => `  ${host}:${port} is held by ${await holderOf(port)}`),
  );
  const variables = Object.entries(localServers)
    .filter(([, server]) => server === name)
    .map(([kind]) => envVariables[kind as keyof typeof envVariables]);
  throw new Error(
    [
      `cannot start ${name}: its ports are in use`,
      ...lines,
      `Stop that process, or point the tests at a running broker instead: ${variables.join(', ')}`,
      '(docs/brokers.md lists every variable).',
    ].join('\n'),
  );
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** "pid 123 (mosquitto -c …)" from /proc, or a plain note when the holder cannot be seen (another user). */
export async function holderOf(port: number): Promise<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, the inode is the tenth field.
      if (fields.length > 9 && fields[3] === '0A' && Number.parseInt(fields[1]!.split(':')[1]!, 16) === port)
        inodes.add(fields[9]!);
    }
  }
  if (inodes.size === 0) return 'a process this user cannot see';
  for (const pid of (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (inodes.has(target.slice('socket:['.length, -1)) && target.startsWith('socket:[')) {
        const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
          .split('\0')
          .filter(Boolean)
          .join(' ');
        return `pid ${pid} (${command.length > 120 ? `${command.slice(0, 117)}…` : command || 'unknown command'})`;
      }
    }
  }
  return 'a process this user cannot see';
}
