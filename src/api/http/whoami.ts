/**
 * `GET /api/2/whoami` and `POST /api/2/checkPermissions` (ditto-interfaces.md §2.10): who the caller is,
 * and whether the caller holds permissions on resources of things and policies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonFormatInvalid, mediaTypeUnsupported } from '../../errors/general.js';
import { isValidNamespacedId } from '../../model/ids.js';
import { PERMISSIONS, type Permission } from '../../policies/model.js';
import type { StorePolicyDirectory } from '../../policies/directory.js';
import type { ThingsService } from '../../things/service.js';
import { isPlainObject } from '../../util/json-pointer.js';
import { dittoHeadersOf } from './headers.js';
import { parseJson } from '../../util/json-parse.js';
import { setKey } from '../../util/objects.js';

export interface WhoamiRoutesOptions {
  things: ThingsService;
  policies: StorePolicyDirectory;
}

interface PermissionCheck {
  resource: string;
  entityId: string;
  hasPermissions: Permission[];
}

export async function whoamiRoutes(app: FastifyInstance, options: WhoamiRoutesOptions): Promise<void> {
  // ditto: §2.10 the default subject is the first of the request's authorization subjects.
  app.get('/api/2/whoami', async (request, reply) => {
    reply.header('correlation-id', dittoHeadersOf(request)['correlation-id']);
    const subjects = [...request.auth.subjects];
    return reply.type('application/json').send(JSON.stringify({ defaultSubject: subjects[0], subjects }));
  });

  /**
   * ditto: §2.10 `{"<name>": {"resource": "thing:/…", "entityId": "ns:id", "hasPermissions": ["READ"]}}` →
   * `{"<name>": true|false}`: true when every listed permission is granted unrestricted on the resource by
   * the policy of the entity (a thing's policy for `thing:` and `message:`, the policy itself for
   * `policy:`). A missing entity or policy answers false, revealing nothing more than a 404 would.
   */
  app.post('/api/2/checkPermissions', async (request, reply) => {
    reply.header('correlation-id', dittoHeadersOf(request)['correlation-id']);
    const checks = parseChecks(request);
    const result: Record<string, boolean> = {};
    for (const [name, check] of Object.entries(checks)) {
      const type = check.resource.slice(0, check.resource.indexOf(':'));
      let policyId: string | undefined;
      if (type === 'policy') policyId = check.entityId;
      else if (type === 'thing' || type === 'message')
        policyId = (await options.things.get(check.entityId))?.value?.policyId;
      const enforcer = await options.policies.enforcerFor(policyId);
      setKey(
        result,
        name,
        enforcer?.hasUnrestricted(check.resource, request.auth.subjects, check.hasPermissions) ?? false,
      );
    }
    return reply.type('application/json').send(JSON.stringify(result));
  });
}

function parseChecks(request: FastifyRequest): Record<string, PermissionCheck> {
  const contentType = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (contentType !== 'application/json')
    throw mediaTypeUnsupported({ contentType, allowed: ['application/json'] });
  const raw = request.body;
  const body = parseJson(Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw ?? ''));
  if (!isPlainObject(body))
    throw jsonFormatInvalid({ detail: 'The permission checks must be a JSON object.' });
  for (const [name, check] of Object.entries(body)) {
    const ok =
      isPlainObject(check) &&
      typeof check.resource === 'string' &&
      /^(thing|policy|message):\//.test(check.resource) &&
      typeof check.entityId === 'string' &&
      isValidNamespacedId(check.entityId) &&
      Array.isArray(check.hasPermissions) &&
      check.hasPermissions.length > 0 &&
      check.hasPermissions.every((p) => PERMISSIONS.includes(p as Permission));
    if (!ok) {
      throw jsonFormatInvalid({
        detail: `The check '${name}' must have a 'resource' (thing:/…, policy:/… or message:/…), an 'entityId' and a non-empty 'hasPermissions' array of READ, WRITE, EXECUTE.`,
      });
    }
  }
  return body as unknown as Record<string, PermissionCheck>;
}
