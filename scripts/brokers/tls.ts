// The test PKI of the TLS listeners: a CA, a server certificate it signs (SAN IP:127.0.0.1, DNS:localhost)
// and a client certificate it signs (CN twinbridge-client), made with openssl. The local brokers keep theirs
// under .brokers/<server>/tls/ (see rabbitmq.ts, kafka.ts); tests that start a broker of their own (e.g. a
// private Mosquitto) make one in a temp directory.
//
// ensureTestPki is idempotent and quick when done: files that exist, parse, chain to their CA, match their
// keys and stay valid for a while are reused (checked with node:crypto, no openssl run); otherwise all of
// them are made anew. Keys are unencrypted PKCS#8 PEM (what OpenSSL 3 writes), which Node, Erlang/OTP
// (RabbitMQ), Mosquitto and Kafka's PEM key store all read.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** CN of the client certificate; RabbitMQ's EXTERNAL mechanism logs it in as this user (rabbitmq.ts). */
export const clientCommonName = 'twinbridge-client';

export interface TestPki {
  dir: string;
  /** Files (absolute paths). */
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** PEM texts, as a connection's `ca` and `client-cert` credentials take them. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface TestPkiOptions {
  /** Validity of new certificates in days (default 825). */
  days?: number;
  /** Subject CN of the CA (default `Twinbridge Test CA`). */
  caName?: string;
}

/** Certificates valid for less than this are made anew. */
const MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;

function files(dir: string) {
  return {
    caFile: path.join(dir, 'ca.pem'),
    caKeyFile: path.join(dir, 'ca.key'),
    serverCertFile: path.join(dir, 'server.pem'),
    serverKeyFile: path.join(dir, 'server.key'),
    clientCertFile: path.join(dir, 'client.pem'),
    clientKeyFile: path.join(dir, 'client.key'),
  };
}

function load(dir: string): TestPki | undefined {
  const f = files(dir);
  if (!Object.values(f).every((file) => existsSync(file))) return undefined;
  const pki: TestPki = {
    dir,
    ...f,
    ca: readFileSync(f.caFile, 'utf8'),
    serverCert: readFileSync(f.serverCertFile, 'utf8'),
    serverKey: readFileSync(f.serverKeyFile, 'utf8'),
    clientCert: readFileSync(f.clientCertFile, 'utf8'),
    clientKey: readFileSync(f.clientKeyFile, 'utf8'),
  };
  try {
    const ca = new X509Certificate(pki.ca);
    const server = new X509Certificate(pki.serverCert);
    const client = new X509Certificate(pki.clientCert);
    const usable = (cert: X509Certificate) => Date.parse(cert.validTo) - Date.now() > MIN_REMAINING_MS;
    const ok =
      [ca, server, client].every(usable) &&
      ca.checkPrivateKey(createPrivateKey(readFileSync(f.caKeyFile, 'utf8'))) &&
      server.verify(ca.publicKey) &&
      client.verify(ca.publicKey) &&
      server.checkPrivateKey(createPrivateKey(pki.serverKey)) &&
      client.checkPrivateKey(createPrivateKey(pki.clientKey)) &&
      server.checkIP('127.0.0.1') !== undefined &&
      server.checkHost('localhost') !== undefined &&
      pki.serverKey.includes('BEGIN PRIVATE KEY') &&
      pki.clientKey.includes('BEGIN PRIVATE KEY');
    return ok ? pki : undefined;
  } catch {
    return undefined; // unreadable or mismatched: make them anew
  }
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { cwd: dir });
}

/** The test PKI in `dir`: reused when present and valid, else made anew (see the module comment). */
export async function ensureTestPki(dir: string, options: TestPkiOptions = {}): Promise<TestPki> {
  const existing = load(dir);
  if (existing) return existing;
  const days = String(options.days ?? 825);
  const caName = options.caName ?? 'Twinbridge Test CA';
  await mkdir(dir, { recursive: true });
  const work = path.join(dir, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work);
  const ext = path.join(work, 'ext.cnf');
  await writeFile(
    ext,
    [
      '[server]',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '[client]',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
  );
  const key = (name: string) => ['-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`];
  await openssl(
    work,
    'req',
    '-x509',
    ...key('ca'),
    '-days',
    days,
    '-subj',
    `/CN=${caName}`,
    '-out',
    'ca.pem',
  );
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', clientCommonName],
  ] as const) {
    await openssl(work, 'req', ...key(name), '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    // -set_serial: distinct serials without a serial file next to the CA.
    const serial = `0x${Date.now().toString(16)}${name === 'server' ? '1' : '2'}`;
    await openssl(
      work,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-days',
      days,
      '-extfile',
      ext,
      '-extensions',
      name,
      '-out',
      `${name}.pem`,
    );
  }
  const target = files(dir);
  const made = files(work);
  for (const name of Object.keys(target) as (keyof typeof target)[]) {
    await writeFile(target[name], await readFile(made[name]), {
      mode: name.endsWith('KeyFile') ? 0o600 : 0o644,
    });
  }
  await rm(work, { recursive: true, force: true });
  const pki = load(dir);
  if (!pki) throw new Error(`the test PKI made in ${dir} does not check out`);
  return pki;
}
