// A cross-process shared/exclusive lock made of directory entries under .brokers/locks/<name>/.
//
// Several processes use the local brokers at once (vitest workers, other developers' test runs,
// `npm run brokers:up`). Starting a broker, or restarting one in a fault test, takes the exclusive
// lock; a test that only needs the broker to stay up may take the shared one. An entry whose owner
// process is gone is stale and removed, so a crashed holder never blocks others for long.
//
// Correctness rests on mkdir/open(O_EXCL) being atomic: a writer first creates `exclusive`, then waits
// for the shared entries to drain; a reader creates its entry, then backs off if `exclusive` exists.
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { brokersDir } from './config.js';
import { delay, isAlive } from './process.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  mode?: LockMode;
  timeoutMs?: number;
}

/** Runs `fn` while holding the named lock (default: exclusive, 10 minutes to acquire). */
export async function withLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await acquire(name, options.mode ?? 'exclusive', options.timeoutMs ?? 600_000);
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function acquire(name: string, mode: LockMode, timeoutMs: number): Promise<() => Promise<void>> {
  const dir = path.join(brokersDir, 'locks', name);
  const exclusive = path.join(dir, 'exclusive');
  await mkdir(dir, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  const waitOrFail = async (): Promise<void> => {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for the ${mode} lock ${dir}`);
    await delay(100);
  };

  if (mode === 'exclusive') {
    for (;;) {
      try {
        await mkdir(exclusive);
        await writeFile(path.join(exclusive, 'pid'), `${process.pid}\n`);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      await removeIfStale(exclusive, path.join(exclusive, 'pid'));
      await waitOrFail();
    }
    const release = (): Promise<void> => rm(exclusive, { recursive: true, force: true });
    try {
      while ((await liveSharedHolders(dir)) > 0) await waitOrFail();
    } catch (error) {
      await release();
      throw error;
    }
    return release;
  }

  const entry = path.join(dir, `shared-${process.pid}-${randomUUID()}`);
  for (;;) {
    if (!(await exists(exclusive))) {
      await (await open(entry, 'wx')).close();
      if (!(await exists(exclusive))) return () => rm(entry, { force: true });
      await rm(entry, { force: true });
    } else {
      await removeIfStale(exclusive, path.join(exclusive, 'pid'));
    }
    await waitOrFail();
  }
}

async function liveSharedHolders(dir: string): Promise<number> {
  let live = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith('shared-')) continue;
    const pid = Number.parseInt(name.split('-')[1] ?? '', 10);
    if (isAlive(pid)) live += 1;
    else await rm(path.join(dir, name), { force: true });
  }
  return live;
}

/** Removes a lock entry whose owner died; an entry still without a pid file gets 10 s to write one. */
async function removeIfStale(entry: string, pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const info = await stat(entry).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 10_000) await rm(entry, { recursive: true, force: true });
    return;
  }
  if (!isAlive(pid)) await rm(entry, { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
