// Eclipse Mosquitto (Debian package `mosquitto`) on 127.0.0.1:21883, with persistence so that
// persistent sessions and retained messages survive a restart.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addresses, host, ports, serverDir } from './config.js';
import { readPid, spawnDetached, stopPid } from './process.js';
import { probeMqtt } from './ready.js';
import type { LocalServer } from './server.js';

const dir = serverDir('mosquitto');
const configFile = path.join(dir, 'mosquitto.conf');
const pidFile = path.join(dir, 'mosquitto.pid');
const logFile = path.join(dir, 'mosquitto.log');

function config(): string {
  return [
    '# Written by scripts/brokers/mosquitto.ts; changes are overwritten.',
    `listener ${ports.mqtt} ${host}`,
    'allow_anonymous true',
    // Started as root, Mosquitto would otherwise switch to the `mosquitto` user, which cannot write
    // the persistence folder under .brokers/.
    'user root',
    'persistence true',
    `persistence_location ${path.join(dir, 'data')}/`,
    'autosave_interval 5',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    '',
  ].join('\n');
}

export const mosquitto: LocalServer = {
  name: 'mosquitto',
  aptPackages: ['mosquitto'],
  addresses: [`MQTT        ${addresses.mqtt}`],
  logFile,
  startTimeoutMs: 30_000,
  async prepare() {
    await mkdir(path.join(dir, 'data'), { recursive: true });
    await writeFile(configFile, config());
  },
  async start() {
    return spawnDetached('/usr/sbin/mosquitto', ['-c', configFile], { logFile, pidFile, cwd: dir });
  },
  async stop() {
    await stopPid(readPid(pidFile), 'SIGTERM');
  },
  pid: () => readPid(pidFile),
  probe: () => probeMqtt(addresses.mqtt),
};
