/**
 * The HTTP push connector `http-push` (ditto-interfaces.md §11.6): targets only, addresses `VERB:/path?query`
 * appended to the connection URI, special headers `http.path` / `http.query`, `parallelism` requests in
 * flight per client, and no request body for the verbs in `omitRequestBody`.
 */
import { defineConnector } from '../../src/connectivity/index.js';
import type { Connection } from '../../src/connectivity/model.js';
import { connectionConfigurationInvalid } from '../../src/errors/connectivity.js';
import { HttpPushConnectorClient } from './client.js';
import { httpPushConfigSchema, parseHttpPushConfig, VERBS, type HttpPushConfig } from './config.js';

export { HttpPushResponseError } from './client.js';

const SCHEMES = ['http:', 'https:'];
const invalid = (detail: string) => connectionConfigurationInvalid({ detail });

function validate(connection: Connection): void {
  if (!SCHEMES.includes(connection.uri.protocol))
    throw invalid(`the field '/uri' must use the scheme http or https for HTTP push`);
  if (connection.uri.search || connection.uri.hash)
    throw invalid(`the field '/uri' must not have a query or fragment for HTTP push`);
  for (const target of connection.targets) {
    // ditto: §11.6 `VERB:/path?query`; the verb is literal, the path may hold placeholders.
    const verb = /^([A-Za-z]+):/.exec(target.address)?.[1];
    if (verb === undefined || !(VERBS as readonly string[]).includes(verb.toUpperCase())) {
      throw invalid(
        `the field '/targets/${target.index}/address' must be of the form 'VERB:/path?query' with VERB one of ${VERBS.join(', ')}`,
      );
    }
  }
}

export const httpPush = defineConnector<HttpPushConfig>({
  type: 'http-push',
  configSchema: httpPushConfigSchema as unknown as Record<string, unknown>,
  capabilities: {
    sources: false,
    targets: true,
    maxClientCount: 16,
    maxConsumerCount: 1,
    consumerGroups: false,
    applicationHeaders: true,
    redeliveryOnNack: false,
    brokerRestart: false,
    binaryPayloadAsText: false,
  },
  inboundPayload: [
    "No sources, so no inbound mapping script: the endpoint's answer to a live message is taken by its content",
    'type (see below), as Ditto takes it (`HttpPublisherActor`, not through payload mapping).',
  ].join('\n'),
  notes: `
Targets only. Each signal is one request \`VERB:/path?query\` under the connection URI; the outbound headers
\`http.path\` and \`http.query\` replace the path and the query. A 2xx response is a successful publish, any other
status a failed one (4xx not retried; 408, 429 and 5xx retriable).

The response is the endpoint's answer (ditto-interfaces.md §9, §11.6):

- With \`issuedAcknowledgementLabel: "live-response"\` and a live message (topic \`_/_/things/live/messages\`), the
  HTTP response is the message response: its status, its body (JSON for JSON content types, text for text,
  base64 otherwise) and its \`content-type\`. \`POST /api/2/things/{id}/inbox/messages/{subject}\` answers with it.
- With a custom label (\`{{connection:id}}:<name>\`), the issued acknowledgement has the HTTP status and the body
  as payload (with \`content-type\`), for twin events, live messages and live commands alike.
- A body of content type \`application/vnd.eclipse.ditto+json\` holding a Ditto Protocol message response, live
  command response, error or acknowledgement is taken as that signal (its \`correlation-id\` must be the one
  sent, or absent). A live command is answered only this way.
`,
  validate,
  parseConfig: (connection) => parseHttpPushConfig(connection.specificConfig),
  createClient: (context) => new HttpPushConnectorClient(context),
});
