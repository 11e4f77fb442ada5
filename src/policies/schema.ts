/**
 * The JSON schema a policy body is validated against: the structure of
 * `reference/ditto-spec/jsonschema/policy.json` (ditto-interfaces.md §7.1), restated here because the
 * reference folder is not part of the service. Two deliberate deviations, both so that the schema
 * checks what the reference intends to check:
 * - the reference nests the import and entry shapes under `properties.additionalProperties` (a property
 *   literally named "additionalProperties"), which validates nothing; here they are `additionalProperties`;
 * - `grant`/`revoke` also accept `EXECUTE`, the permission of policy actions (§7.5, §2.8 table).
 * The `$schema` keyword (draft-04) is left out: ajv 8 validates this draft-07-compatible subset as is.
 */
export const policySchema = {
  type: 'object',
  properties: {
    policyId: { type: 'string' },
    imports: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          entries: { type: 'array', items: { type: 'string' }, maxItems: 10 },
          transitiveImports: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    entries: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          subjects: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: {
                type: { type: 'string' },
                expiry: { type: 'string', format: 'date-time' },
                announcement: {
                  type: 'object',
                  properties: {
                    beforeExpiry: { type: 'string' },
                    whenDeleted: { type: 'boolean' },
                    requestedAcks: {
                      type: 'object',
                      properties: {
                        labels: { type: 'array', items: { type: 'string' } },
                        timeout: { type: 'string' },
                      },
                    },
                    randomizationInterval: { type: 'string' },
                  },
                },
              },
              required: ['type'],
            },
          },
          resources: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: {
                grant: { type: 'array', items: { type: 'string', enum: ['READ', 'WRITE', 'EXECUTE'] } },
                revoke: { type: 'array', items: { type: 'string', enum: ['READ', 'WRITE', 'EXECUTE'] } },
              },
              required: ['grant', 'revoke'],
            },
          },
          namespaces: { type: 'array', items: { type: 'string' } },
          importable: { type: 'string', enum: ['implicit', 'explicit', 'never'] },
          references: {
            type: 'array',
            items: {
              type: 'object',
              properties: { entry: { type: 'string' }, import: { type: 'string' } },
              required: ['entry'],
            },
          },
          allowedAdditions: {
            type: 'array',
            items: { type: 'string', enum: ['subjects', 'resources', 'namespaces'] },
          },
        },
        required: ['subjects', 'resources'],
      },
    },
    _revision: { type: 'integer' },
    _created: { type: 'string', format: 'date-time' },
    _modified: { type: 'string', format: 'date-time' },
    _metadata: { type: 'object' },
  },
  required: ['policyId', 'entries'],
} as const;
