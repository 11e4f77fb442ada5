/**
 * A requester with no permission on a thing learns nothing about it from a conditional write: If-Match and
 * If-None-Match are answered only after the permission check, so a stranger gets the same 404 for an
 * existing thing as for a missing one, never a 412 that would carry the thing's ETag (its revision).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/app.js';

let svc: TestService;
const BOB = 'bob:bob'; // no entry in the thing's policy
const THING = 'org.eclipse.ditto:precondition-oracle';
const MISSING = 'org.eclipse.ditto:precondition-oracle-missing';

beforeAll(async () => {
  svc = await startTestService();
  expect(
    (await svc.request('PUT', `/api/2/things/${THING}`, { body: { attributes: { a: 1 } } })).status,
  ).toBe(201);
});
afterAll(async () => {
  await svc?.close();
});

const headerSets: Array<Record<string, string>> = [
  { 'if-match': '"rev:999"' },
  { 'if-match': '*' },
  { 'if-none-match': '*' },
  { 'if-none-match': '"rev:1"' },
];
const writes: Array<[string, string, unknown]> = [
  ['PUT', '/attributes/a', 2],
  ['PATCH', '/attributes', { a: 3 }],
  ['DELETE', '/attributes/a', undefined],
  ['PUT', '/features/f', {}],
];

describe('a conditional write by a stranger', () => {
  for (const headers of headerSets) {
    it.each(writes)(
      `%s …%s with ${JSON.stringify(headers)} answers as for a missing thing`,
      async (method, path, body) => {
        const send = (id: string) =>
          svc.request(method, `/api/2/things/${id}${path}`, {
            auth: BOB,
            headers,
            ...(body === undefined ? {} : { body }),
          });
        const existing = await send(THING);
        const missing = await send(MISSING);
        expect(existing.status).toBe(404);
        expect(existing.headers.get('etag')).toBeNull();
        expect({ status: existing.status, error: existing.json.error }).toEqual({
          status: missing.status,
          error: missing.json.error,
        });
        expect(existing.json.message.replace(THING, '<id>')).toBe(
          missing.json.message.replace(MISSING, '<id>'),
        );
      },
    );
  }

  it('leaves the thing as it was', async () => {
    const res = await svc.request('GET', `/api/2/things/${THING}`);
    expect(res.json).toMatchObject({ attributes: { a: 1 } });
    expect(res.headers.get('etag')).toBe('"rev:1"');
  });
});
