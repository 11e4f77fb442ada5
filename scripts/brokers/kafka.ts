// Apache Kafka 3.9 in KRaft mode, one node that is both broker (127.0.0.1:29092) and controller
// (127.0.0.1:29093), run from the jars that scripts/brokers/kafka/pom.xml pulls from Maven Central.
//
// TLS: a second client listener SSL://127.0.0.1:29094 with the test PKI of .brokers/kafka/tls/
// (scripts/brokers/tls.ts), given inline as PEM (Kafka's PEM key store takes an unencrypted PKCS#8 key only
// inline). Client certificates are asked for and verified against the test CA when presented, not required
// (ssl.client.auth=requested). Brokers and controller keep talking PLAINTEXT.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { addresses, host, ports, repoRoot, serverDir, tlsDir } from './config.js';
import { readPid, run, spawnDetached, stopPid } from './process.js';
import { probeKafka } from './ready.js';
import type { LocalServer } from './server.js';
import { ensureTestPki, type TestPki } from './tls.js';

/** Keep in step with kafka.version in scripts/brokers/kafka/pom.xml. */
export const kafkaVersion = '3.9.2';

const dir = serverDir('kafka');
const libDir = path.join(dir, 'lib');
const dataDir = path.join(dir, 'data');
const pidFile = path.join(dir, 'kafka.pid');
const logFile = path.join(dir, 'kafka.log');
const configFile = path.join(dir, 'server.properties');
const log4jFile = path.join(dir, 'log4j.properties');
const pom = path.join(repoRoot, 'scripts', 'brokers', 'kafka', 'pom.xml');
const pkiDir = tlsDir('kafka');

/** A PEM text as one properties value (`\n` escapes; a properties file ends a value at a line break). */
function inline(pem: string): string {
  return pem.trim().replace(/\r?\n/g, '\\n');
}

function serverProperties(pki: TestPki): string {
  return [
    '# Written by scripts/brokers/kafka.ts; changes are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${ports.kafkaController}`,
    `listeners=PLAINTEXT://${host}:${ports.kafka},CONTROLLER://${host}:${ports.kafkaController},SSL://${host}:${ports.kafkaTls}`,
    `advertised.listeners=PLAINTEXT://${host}:${ports.kafka},SSL://${host}:${ports.kafkaTls}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL',
    'ssl.keystore.type=PEM',
    `ssl.keystore.certificate.chain=${inline(pki.serverCert)}`,
    `ssl.keystore.key=${inline(pki.serverKey)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.certificates=${inline(pki.ca)}`,
    'ssl.client.auth=requested',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    // Small thread pools and buffers: a test broker on a shared 2-core machine.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'log.cleaner.dedupe.buffer.size=8388608',
    '',
  ].join('\n');
}

function log4jProperties(): string {
  return [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka=INFO',
    'log4j.logger.org.apache.kafka=INFO',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
}

const javaOptions = [
  '-Xmx512m',
  '-Xms128m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-Djava.awt.headless=true',
  `-Dlog4j.configuration=file:${log4jFile}`,
  `-Dkafka.logs.dir=${dir}`,
];

function java(mainClass: string, args: readonly string[]): [string, string[]] {
  return ['java', [...javaOptions, '-cp', `${libDir}/*`, mainClass, ...args]];
}

async function jarsPresent(): Promise<boolean> {
  if (!existsSync(libDir)) return false;
  return (await readdir(libDir)).includes(`kafka_2.13-${kafkaVersion}.jar`);
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints). Like
 * Kafka's own generator it never starts with '-', which the storage tool's argument parser would take for
 * an option (a fresh install failed so, about once in 64).
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const kafka: LocalServer = {
  name: 'kafka',
  aptPackages: [],
  addresses: [
    `Kafka       ${addresses.kafka}`,
    `Kafka (TLS) ${addresses.kafkaTls} (CA ${path.join(pkiDir, 'ca.pem')})`,
  ],
  logFile,
  startTimeoutMs: 120_000,
  async prepare() {
    await mkdir(dir, { recursive: true });
    if (!(await jarsPresent())) {
      console.log(`brokers: fetching Kafka ${kafkaVersion} jars from Maven Central`);
      await rm(libDir, { recursive: true, force: true });
      await run('mvn', [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${libDir}`,
      ]);
    }
    await writeFile(configFile, serverProperties(await ensureTestPki(pkiDir)));
    await writeFile(log4jFile, log4jProperties());
    if (!existsSync(path.join(dataDir, 'meta.properties'))) {
      const [command, args] = java('kafka.tools.StorageTool', [
        'format',
        `--cluster-id=${clusterId()}`,
        '-c',
        configFile,
      ]);
      await run(command, args, { cwd: dir });
    }
  },
  async start() {
    const [command, args] = java('kafka.Kafka', [configFile]);
    return spawnDetached(command, args, { logFile, pidFile, cwd: dir });
  },
  async stop() {
    await stopPid(readPid(pidFile), 'SIGTERM', 90_000);
  },
  async configChanged() {
    if (!existsSync(configFile)) return true;
    const wanted = serverProperties(await ensureTestPki(pkiDir));
    return (await readFile(configFile, 'utf8')) !== wanted;
  },
  pid: () => readPid(pidFile),
  async probe() {
    // Both listeners at once; the SSL one with a certificate the test CA signed (a broker started before
    // it existed fails).
    const ca = await readFile(path.join(pkiDir, 'ca.pem'), 'utf8');
    await Promise.all([probeKafka([addresses.kafka]), probeKafka([addresses.kafkaTls], { ca })]);
  },
};
