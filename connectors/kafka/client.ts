/**
 * One Kafka connection client over kafkajs, for the connectivity runtime (STYLE lesson 1).
 *
 * connect() opens an admin client (offset look-ups, liveness) and, when the connection publishes, one
 * producer; createSource() starts one group member per source address × consumer (source.ts);
 * createTarget() hands out writers of the shared producer (target.ts). kafkajs' own restarts are off and
 * its retries short: a lost cluster is reported once through `onDisconnect` and the runtime reconnects
 * with back-off (STYLE lesson 2). Credentials go to kafkajs only; its logging is off, so they never reach
 * a log line.
 */
import {
  Kafka,
  logLevel,
  type Admin,
  type KafkaConfig as KafkajsConfig,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type {
  ClientContext,
  ConnectorClient,
  InboundMessage,
  SourceHandle,
  TargetHandle,
} from '../../src/connectivity/connector.js';
import { connectError } from '../../src/connectivity/errors.js';
import { notConnected } from '../../src/errors/connectivity.js';
import type { Source, Target } from '../../src/connectivity/model.js';
import { parseKafkaConfig, type KafkaConfig } from './config.js';
import { KafkaSource } from './source.js';
import { isConnectionError, RecordWriter } from './target.js';

/**
 * kafkajs notices a lost cluster late (a crashed consumer first tries to leave its group) and a connection
 * without sources not before the next write, so the client probes the cluster this often.
 */
const PROBE_INTERVAL_MS = 2_000;
const PROBE_TIMEOUT_MS = 5_000;

export class KafkaConnectorClient implements ConnectorClient {
  private readonly config: KafkaConfig;
  private kafka: Kafka | undefined;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private writer: RecordWriter | undefined;
  private readonly sources: KafkaSource[] = [];
  private probe: NodeJS.Timeout | undefined;
  private probing = false;
  private closing = false;
  private lostReported = false;

  constructor(private readonly context: ClientContext) {
    this.config = parseKafkaConfig(context.connection);
  }

  private kafkajsConfig(): KafkajsConfig {
    const { connection, clientIndex } = this.context;
    const config: KafkajsConfig = {
      clientId: `twinbridge-${connection.id}-${clientIndex + 1}`,
      brokers: this.config.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    };
    const { tls, sasl } = this.config;
    if (tls)
      config.ssl = {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
      };
    if (sasl)
      config.sasl = {
        mechanism: sasl.mechanism,
        username: sasl.username,
        password: sasl.password,
      } as SASLOptions;
    return config;
  }

  /** Reports a lost cluster once; the runtime then closes this client and reconnects. */
  private lost(error: Error): void {
    if (this.closing || this.lostReported) return;
    this.lostReported = true;
    this.context.onDisconnect(error);
  }

  async connect(): Promise<void> {
    const { connection } = this.context;
    this.kafka = new Kafka(this.kafkajsConfig());
    try {
      this.admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } });
      await this.admin.connect();
      const publishes = connection.targets.length > 0 || connection.sources.some((s) => s.replyTarget);
      if (publishes) {
        this.producer = this.kafka.producer({
          allowAutoTopicCreation: false,
          idempotent: false,
          retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
        });
        await this.producer.connect();
        this.writer = new RecordWriter(this.producer, (e) => this.lost(e));
      }
    } catch (err) {
      throw connectError(err, { refused: authorizationRefused });
    }
    this.probe = setInterval(() => this.checkCluster(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  /** A metadata request; failing for connection reasons (or hanging) means the cluster is lost. */
  private checkCluster(): void {
    const admin = this.admin;
    if (!admin || this.probing) return;
    this.probing = true;
    const hung = setTimeout(
      () => this.lost(new Error(`the Kafka cluster did not answer within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
    admin
      .describeCluster()
      .then(
        () => undefined,
        (err: Error) => {
          if (isConnectionError(err)) this.lost(err);
        },
      )
      .finally(() => {
        clearTimeout(hung);
        this.probing = false;
      });
  }

  async createSource(
    source: Source,
    address: string,
    _consumerIndex: number,
    deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle> {
    if (!this.kafka || !this.admin) throw notConnected({ detail: 'the Kafka client is not connected' });
    const kafkaSource = new KafkaSource({
      kafka: this.kafka,
      admin: this.admin,
      topic: address,
      groupId: this.config.groupId,
      offsetReset: this.config.offsetReset,
      qos: source.qos === 1 ? 1 : 0,
      deliver,
      onFailure: (e) => this.lost(e),
    });
    this.sources.push(kafkaSource);
    try {
      await kafkaSource.start();
    } catch (err) {
      throw connectError(err, { refused: authorizationRefused });
    }
    return kafkaSource;
  }

  async createTarget(_target: Target): Promise<TargetHandle> {
    const writer = this.writer;
    if (!writer) throw notConnected({ detail: 'the Kafka client is not connected' });
    return { write: (message) => writer.write(message) };
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.probe);
    this.writer?.close();
    const sources = this.sources.splice(0);
    await Promise.all(sources.map((s) => s.close()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    this.writer = undefined;
    this.kafka = undefined;
    // Disconnecting from a cluster that is gone fails; nothing is left to do: this client is dropped.
    await Promise.all([producer?.disconnect(), admin?.disconnect()].map((p) => p?.catch(() => undefined)));
  }
}

/**
 * Refused credentials and authorizations do not heal by retrying; everything else kafkajs reports (refused
 * connections, a missing topic) is retried with back-off, even once kafkajs calls it final.
 */
function authorizationRefused(err: Error): boolean {
  const type = (err as Error & { type?: string }).type ?? '';
  return (
    err.name === 'KafkaJSSASLAuthenticationError' ||
    type === 'SASL_AUTHENTICATION_FAILED' ||
    type === 'TOPIC_AUTHORIZATION_FAILED' ||
    type === 'GROUP_AUTHORIZATION_FAILED'
  );
}
