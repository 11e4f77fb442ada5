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
  if (!SCHEMES.includes(connection.uri.protocol)) throw invalid(`the field '/uri' must use the scheme http or https for HTTP push`);
  if (connection.uri.search || connection.uri.hash) throw invalid(`the field '/uri' must not have a query or fragment for HTTP push`);
  for (const target of connection.targets) {
    // ditto: §11.6 `VERB:/path?query`; the verb is literal, the path may hold placeholders.
    const verb = /^([A-Za-z]+):/.exec(target.address)?.[1];
    if (verb === undefined || !(VERBS as readonly string[]).includes(verb.toUpperCase())) {
      throw invalid(`the field '/targets/${target.index}/address' must be of the form 'VERB:/path?query' with VERB one of ${VERBS.join(', ')}`);
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
  },
  validate,
  parseConfig: (connection) => parseHttpPushConfig(connection.specificConfig),
  createClient: (context) => new HttpPushConnectorClient(context),
});
