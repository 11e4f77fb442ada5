/**
 * Connector documentation generated from the connector's config schema and capabilities (STYLE lesson 3:
 * one schema, three uses). `node --import tsx scripts/...` or the test in test/connectivity writes/checks it.
 */
import type { AnyConnector } from './connector.js';

interface PropertySchema {
  type?: string;
  enum?: string[];
  description?: string;
  'x-secret'?: boolean;
}

/** The README of a connector folder: specificConfig options, capabilities, payload forms, TLS and the connectors' notes. */
export function connectorReadme(connectors: readonly AnyConnector[], title: string): string {
  const [first] = connectors;
  const properties = (first.configSchema.properties ?? {}) as Record<string, PropertySchema>;
  const rows = Object.entries(properties).map(([name, p]) => {
    const values = p.enum ? p.enum.map((v) => `\`${v}\``).join(', ') : 'string';
    return `| \`${name}\` | ${values} | ${(p.description ?? '').replace(/\|/g, '\\|')}${p['x-secret'] ? ' (secret: never logged)' : ''} |`;
  });
  const caps = connectors.map((c) => {
    const k = c.capabilities;
    return `| \`${c.type}\` | ${k.sources ? 'yes' : 'no'} | ${k.targets ? 'yes' : 'no'} | ${k.maxClientCount} | ${k.sources ? k.maxConsumerCount : '–'} | ${k.applicationHeaders ? 'yes' : 'no'} | ${k.consumerGroups ? 'yes' : 'no'} | ${k.redeliveryOnNack ? 'yes' : 'no'} |`;
  });
  return [
    `# ${title}`,
    '',
    '<!-- Generated from the connector definition (configSchema, capabilities); do not edit by hand. -->',
    '',
    '## `specificConfig`',
    '',
    '| key | values | meaning |',
    '|---|---|---|',
    ...rows,
    '',
    '## Capabilities',
    '',
    '| connectionType | sources | targets | max clientCount | max consumerCount | application headers | consumer groups | redelivery on nack |',
    '|---|---|---|---|---|---|---|---|',
    ...caps,
    '',
    '## Payload in mapping scripts',
    '',
    first.inboundPayload,
    '',
    ...connectors.flatMap((c) => (c.notes === undefined ? [] : ['## Behaviour', '', c.notes.trim(), ''])),
    ...(first.tls ? ['## TLS', '', first.tls, ''] : []),
  ].join('\n');
}
