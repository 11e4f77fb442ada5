/**
 * The policies HTTP API v2 (§2.8): every level from `/api/2/policies/{policyId}` down to a single subject
 * or resource, translated to PolicyCommands for the policies service and back to HTTP. Subject IDs and
 * resource paths arrive URL-encoded (`nginx%3Aditto`, `thing%3A%2Ffeatures%2Flamp`); a resource path may
 * also be given unencoded (`…/resources/thing:/features/lamp`). Policies cannot be PATCHed (405).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { policyIdInvalid } from '../../errors/policies.js';
import { isValidNamespacedId } from '../../model/ids.js';
import type { PolicyCommand, PolicyCommandAction, PolicyPath } from '../../policies/commands.js';
import type { PoliciesService } from '../../policies/service.js';
import { parseFieldSelector } from '../../util/field-selector.js';
import { dittoHeadersOf } from './headers.js';
import { jsonBody } from './thing-request.js';

export interface PoliciesRoutesOptions {
  policies: PoliciesService;
}

type Params = {
  policyId: string;
  label?: string;
  subjectId?: string;
  importedPolicyId?: string;
  '*'?: string;
};

const BASE = '/api/2/policies/:policyId';

export async function policiesRoutes(app: FastifyInstance, options: PoliciesRoutesOptions): Promise<void> {
  const { policies } = options;

  const run = async (
    request: FastifyRequest,
    reply: FastifyReply,
    action: PolicyCommandAction,
    path: PolicyPath,
  ) => {
    const headers = dittoHeadersOf(request);
    reply.header('correlation-id', headers['correlation-id']);
    const params = request.params as Params;
    if (!isValidNamespacedId(params.policyId)) throw policyIdInvalid({ id: params.policyId });
    const command: PolicyCommand = { policyId: params.policyId, action, path, headers };
    if (action === 'modify') command.value = jsonBody(request, 'json');
    const fields = (request.query as Record<string, string | undefined>).fields;
    if (action === 'retrieve' && fields !== undefined) {
      parseFieldSelector(fields);
      command.fields = fields;
    }
    const response = await policies.execute(command, request.auth);
    if (response.headers.etag) reply.header('etag', response.headers.etag);
    const historical = response.headers['historical-headers'];
    if (historical !== undefined) reply.header('historical-headers', historical);
    if (response.status === 201) reply.header('location', request.url.split('?')[0]);
    reply.code(response.status);
    if (response.value === undefined || response.status === 204) return reply.send();
    return reply.type('application/json').send(JSON.stringify(response.value));
  };

  const label = (r: FastifyRequest) => (r.params as Params).label!;
  const routes: Array<[string, (r: FastifyRequest) => PolicyPath, boolean]> = [
    // [url, path, whether DELETE is supported]
    [BASE, () => ({ kind: 'policy' }), true],
    [`${BASE}/entries`, () => ({ kind: 'entries' }), false],
    [`${BASE}/entries/:label`, (r) => ({ kind: 'entry', label: label(r) }), true],
    [`${BASE}/entries/:label/subjects`, (r) => ({ kind: 'subjects', label: label(r) }), false],
    [
      `${BASE}/entries/:label/subjects/:subjectId`,
      (r) => ({ kind: 'subject', label: label(r), subjectId: (r.params as Params).subjectId! }),
      true,
    ],
    [`${BASE}/entries/:label/resources`, (r) => ({ kind: 'resources', label: label(r) }), false],
    [
      `${BASE}/entries/:label/resources/*`,
      (r) => ({ kind: 'resource', label: label(r), resource: (r.params as Params)['*']! }),
      true,
    ],
    [`${BASE}/entries/:label/importable`, (r) => ({ kind: 'importable', label: label(r) }), false],
    [`${BASE}/entries/:label/namespaces`, (r) => ({ kind: 'namespaces', label: label(r) }), false],
    [`${BASE}/imports`, () => ({ kind: 'imports' }), true],
    [
      `${BASE}/imports/:importedPolicyId`,
      (r) => ({ kind: 'import', importedPolicyId: (r.params as Params).importedPolicyId! }),
      true,
    ],
    [
      `${BASE}/imports/:importedPolicyId/entries`,
      (r) => ({ kind: 'importEntries', importedPolicyId: (r.params as Params).importedPolicyId! }),
      false,
    ],
  ];
  for (const [url, pathOf, deletable] of routes) {
    app.get(url, (request, reply) => run(request, reply, 'retrieve', pathOf(request)));
    app.put(url, (request, reply) => run(request, reply, 'modify', pathOf(request)));
    if (deletable) app.delete(url, (request, reply) => run(request, reply, 'delete', pathOf(request)));
  }
}

/** The parsed JSON body of a PUT: `application/json` or a `+json` type (else 415 `mediatype.unsupported`). */
