/**
 * Policy commands on a WebSocket session (ditto-interfaces.md §4.7): the protocol path becomes the policy
 * level the policies service addresses, and its response goes back on the same topic; errors use
 * `{ns}/{name}/policies/errors`.
 */
import type { AuthContext } from '../../auth/context.js';
import { unknownPath } from '../../errors/protocol.js';
import type {
  PolicyCommand as ProtocolPolicyCommand,
  PolicyCommandResponse as ProtocolPolicyResponse,
} from '../../model/signals.js';
import type { PolicyPath } from '../../policies/commands.js';
import type { PoliciesService } from '../../policies/service.js';

/** `/`, `/entries[/<label>[/subjects[/<id>]|/resources[/<resource>]|/importable|/namespaces]]`, `/imports[/<id>[/entries]]`. */
export function parsePolicyPath(path: string): PolicyPath {
  const fail = (): never => {
    throw unknownPath({ path });
  };
  if (path === '/' || path === '') return { kind: 'policy' };
  const parts = path.replace(/^\//, '').split('/');
  if (parts[0] === 'imports') {
    if (parts.length === 1) return { kind: 'imports' };
    if (parts.length === 3 && parts[1] !== '' && parts[2] === 'entries')
      return { kind: 'importEntries', importedPolicyId: parts[1] };
    return parts.length === 2 && parts[1] !== '' ? { kind: 'import', importedPolicyId: parts[1] } : fail();
  }
  if (parts[0] !== 'entries') return fail();
  if (parts.length === 1) return { kind: 'entries' };
  const label = parts[1];
  if (label === '') return fail();
  if (parts.length === 2) return { kind: 'entry', label };
  const rest = parts.slice(3).join('/');
  switch (parts[2]) {
    case 'subjects':
      return parts.length === 3
        ? { kind: 'subjects', label }
        : rest === ''
          ? fail()
          : { kind: 'subject', label, subjectId: rest };
    case 'resources':
      return parts.length === 3
        ? { kind: 'resources', label }
        : rest === ''
          ? fail()
          : { kind: 'resource', label, resource: rest };
    case 'importable':
      return parts.length === 3 ? { kind: 'importable', label } : fail();
    case 'namespaces':
      return parts.length === 3 ? { kind: 'namespaces', label } : fail();
    default:
      return fail();
  }
}

/** Executes a protocol policy command; rejects with the service's DittoError. */
export async function executePolicyCommand(
  service: PoliciesService,
  command: ProtocolPolicyCommand,
  auth: AuthContext,
): Promise<ProtocolPolicyResponse> {
  const request = {
    policyId: command.policyId,
    action: command.action,
    path: parsePolicyPath(command.path),
    headers: command.headers,
    ...(command.value === undefined ? {} : { value: command.value }),
    ...(command.fields === undefined ? {} : { fields: command.fields }),
  };
  const response = await service.execute(request, auth);
  const headers: Record<string, string> = { 'correlation-id': command.headers['correlation-id'] ?? '' };
  const historical = response.headers['historical-headers'];
  if (historical !== undefined) headers['historical-headers'] = historical;
  const result: ProtocolPolicyResponse = {
    policyId: command.policyId,
    action: command.action,
    path: command.path,
    status: response.status,
    headers,
  };
  if (response.value !== undefined) result.value = response.value;
  return result;
}
