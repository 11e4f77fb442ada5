/**
 * One HTTP push client (ditto-interfaces.md §11.6) over node:http / node:https, for the connectivity runtime.
 *
 * Targets only. `write` sends one request and resolves with the response (status, headers, body) on a 2xx
 * status; any other status rejects with an `HttpPushResponseError` carrying the same as `response` (4xx not
 * retriable, 408/429/5xx retriable; §9 status semantics). The runtime turns the response into the issued
 * acknowledgement or the live response (§11.6). At most `parallelism`
 * requests are in flight per client; the others wait in call order (with the default 1, requests are sent
 * one after the other, in order), as many as the runtime's outbound window lets through (src/connectivity/window.ts). `connect()` opens (and closes) one TCP or TLS connection to check that the
 * endpoint is reachable and its certificate valid, so the connection status tells. Credentials in the URI
 * become a Basic `authorization` header; they never appear in error texts.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import {
  AddressInvalidError,
  connectError,
  TimeoutError,
  type ClientContext,
  type ConnectorClient,
  type InboundMessage,
  type OutboundMessage,
  type SourceHandle,
  type TargetHandle,
  type WriteResponse,
} from '../../src/connectivity/index.js';
import { TwinbridgeError } from '../../src/errors/base.js';
import type { Source, Target } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid, notConnected } from '../../src/errors/connectivity.js';
import { parseHttpPushConfig, type HttpPushConfig } from './config.js';
import { buildRequest } from './request.js';

const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Response bodies kept for the acknowledgement (larger ones are truncated). */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** A non-2xx response; `status` is the HTTP status (the issued acknowledgement's status); 408, 429 and 5xx are retriable. */
export class HttpPushResponseError extends TwinbridgeError {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: Buffer,
    what: string,
  ) {
    super(`the HTTP endpoint answered ${status} to ${what}`, {
      retriable: status >= 500 || status === 408 || status === 429,
    });
  }

  /** The answer as the runtime reads it from a rejected write (`responseOf`). */
  get response(): WriteResponse {
    return { status: this.status, headers: this.headers, payload: this.body };
  }
}

interface Waiting {
  start: () => void;
  reject: (error: Error) => void;
}

export class HttpPushConnectorClient implements ConnectorClient {
  private readonly config: HttpPushConfig;
  private agent: http.Agent | undefined;
  private inFlight = 0;
  private readonly waiting: Waiting[] = [];
  private readonly requests = new Set<http.ClientRequest>();
  private readonly tls: boolean;

  constructor(private readonly context: ClientContext) {
    this.config = parseHttpPushConfig(context.connection.specificConfig);
    this.tls = context.connection.uri.protocol === 'https:';
  }

  private tlsOptions(): tls.ConnectionOptions {
    const { connection } = this.context;
    const options: tls.ConnectionOptions = {
      rejectUnauthorized: connection.validateCertificates,
      servername: net.isIP(connection.uri.hostname) ? undefined : connection.uri.hostname,
    };
    if (connection.ca) options.ca = connection.ca;
    const creds = connection.credentials;
    if (creds?.type === 'client-cert') {
      if (typeof creds.cert === 'string') options.cert = creds.cert;
      if (typeof creds.key === 'string') options.key = creds.key;
    }
    return options;
  }

  private get port(): number {
    const uri = this.context.connection.uri;
    return Number(uri.port || (this.tls ? 443 : 80));
  }

  async connect(): Promise<void> {
    const host = this.context.connection.uri.hostname.replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      const socket = this.tls
        ? tls.connect({ host, port: this.port, ...this.tlsOptions() })
        : net.connect({ host, port: this.port });
      const timer = setTimeout(
        () =>
          socket.destroy(
            new Error(`no connection to the HTTP endpoint within ${CONNECT_TIMEOUT_MS / 1000} s`),
          ),
        CONNECT_TIMEOUT_MS,
      );
      socket.once(this.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.end();
        resolve();
      });
      socket.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(connectError(err, { message: `cannot reach the HTTP endpoint: ${err.message}` }));
      });
    });
    const agentOptions = { keepAlive: true, maxSockets: this.config.parallelism };
    this.agent = this.tls
      ? new https.Agent({ ...agentOptions, ...this.tlsOptions() })
      : new http.Agent(agentOptions);
  }

  async createSource(
    _source: Source,
    _address: string,
    _consumerIndex: number,
    _deliver: (message: InboundMessage) => void,
  ): Promise<SourceHandle> {
    throw connectionConfigurationInvalid({ detail: 'HTTP push connections have no sources' });
  }

  async createTarget(_target: Target): Promise<TargetHandle> {
    if (!this.agent) throw notConnected({ detail: 'the HTTP push client is not connected' });
    return { write: (message) => this.write(message) };
  }

  /** Waits for a free slot (FIFO), sends, and frees the slot when the response ended. */
  private write(message: OutboundMessage): Promise<WriteResponse> {
    return new Promise<WriteResponse>((resolve, reject) => {
      const start = () => {
        this.inFlight++;
        this.send(message)
          .then(resolve, reject)
          .finally(() => {
            this.inFlight--;
            const next = this.waiting.shift();
            if (next) next.start();
          });
      };
      if (!this.agent) reject(notConnected({ detail: 'the HTTP push client is not connected' }));
      else if (this.inFlight < this.config.parallelism) start();
      else this.waiting.push({ start, reject });
    });
  }

  private send(message: OutboundMessage): Promise<WriteResponse> {
    const { uri } = this.context.connection;
    const request = buildRequest(uri.pathname, message.address, message.headers);
    if (!request)
      return Promise.reject(
        new AddressInvalidError(`the target address '${message.address}' is not of the form 'VERB:/path'`),
      );
    const agent = this.agent;
    if (!agent) return Promise.reject(notConnected({ detail: 'the HTTP push client is not connected' }));
    const headers: Record<string, string> = { ...request.headers };
    const withBody = !this.config.omitRequestBody.has(request.method);
    if (withBody) {
      if (headers['content-type'] === undefined && message.contentType !== undefined)
        headers['content-type'] = message.contentType;
      headers['content-length'] = String(message.payload.length);
    } else delete headers['content-type'];
    if (uri.username && headers.authorization === undefined) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(uri.username)}:${decodeURIComponent(uri.password)}`).toString('base64')}`;
    }
    const what = `${request.method} ${request.path.split('?')[0]}`;
    return new Promise<WriteResponse>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        req = (this.tls ? https : http).request({
          host: uri.hostname.replace(/^\[|\]$/g, ''),
          port: this.port,
          method: request.method,
          path: request.path,
          headers,
          agent,
          timeout: REQUEST_TIMEOUT_MS,
        });
      } catch (err) {
        // Invalid header names or values are refused before anything is sent.
        return reject(new Error(`cannot send ${what}: ${(err as Error).message}`, { cause: err }));
      }
      this.requests.add(req);
      req.on('timeout', () =>
        req.destroy(new TimeoutError(`no response to ${what} within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', (err) => {
        this.requests.delete(req);
        reject(
          err.message.includes(what) ? err : new Error(`${what} failed: ${err.message}`, { cause: err }),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          this.requests.delete(req);
          const status = res.statusCode ?? 0;
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
          const body = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES);
          if (status >= 200 && status < 300)
            return resolve({ status, headers: responseHeaders, payload: body });
          reject(new HttpPushResponseError(status, responseHeaders, body, what));
        });
        res.on('error', (err) =>
          reject(new Error(`reading the response to ${what} failed: ${err.message}`, { cause: err })),
        );
      });
      req.end(withBody ? message.payload : undefined);
    });
  }

  async close(): Promise<void> {
    const error = notConnected({ detail: 'the client was closed' });
    for (const w of this.waiting.splice(0)) w.reject(error);
    for (const req of this.requests) req.destroy(error);
    this.requests.clear();
    this.agent?.destroy();
    this.agent = undefined;
  }
}
