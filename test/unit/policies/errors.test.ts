import { describe, expect, it } from 'vitest';
import { declaredErrors } from '../../../src/errors/ditto-error.js';
import '../../../src/errors/policies.js';

describe('policies error codes (§2.8, §2.11)', () => {
  it.each([
    ['policies:policy.notfound', 404],
    ['policies:policy.notmodifiable', 403],
    ['policies:policy.conflict', 409],
    ['policies:policy.toolarge', 413],
    ['policies:policy.toomanymodifyingrequests', 429],
    ['policies:policy.modificationinvalid', 403],
    ['policies:entry.modificationinvalid', 403],
    ['policies:entry.notfound', 404],
    ['policies:subject.notfound', 404],
    ['policies:resource.notfound', 404],
    ['policies:import.notfound', 404],
    ['policies:id.invalid', 400],
    ['policies:id.notsettable', 400],
    ['policies:label.invalid', 400],
    ['policies:subjectid.invalid', 400],
    ['policies:entry.invalid', 400],
    ['policies:imports.toolarge', 400],
    ['policies:precondition.failed', 412],
    ['policies:precondition.notmodified', 304],
  ])('declares %s with status %i', (code, status) => {
    expect(declaredErrors()).toContainEqual({ code, status });
  });
});
