// Installs Debian packages that are missing, with one `apt-get update` per process at most.
import { run } from './process.js';

let updated = false;

export async function isPackageInstalled(name: string): Promise<boolean> {
  try {
    const status = await run('dpkg-query', ['-W', '-f=${Status}', name]);
    return status.includes('install ok installed');
  } catch {
    return false; // dpkg-query exits 1 for a package it has never heard of
  }
}

/** Installs whichever of `names` are not installed yet; does nothing (and no update) when all are. */
export async function ensureAptPackages(names: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const name of names) if (!(await isPackageInstalled(name))) missing.push(name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages ${missing.join(', ')}: install them (apt-get install ${missing.join(' ')}) or run as root`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for a concurrent apt/dpkg run instead of failing on its lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  if (!updated) {
    console.log('brokers: apt-get update');
    await run('apt-get', [...lockWait, 'update', '-q'], { env });
    updated = true;
  }
  console.log(`brokers: apt-get install ${missing.join(' ')}`);
  await run('apt-get', [...lockWait, 'install', '-y', '-q', '--no-install-recommends', ...missing], { env });
}
