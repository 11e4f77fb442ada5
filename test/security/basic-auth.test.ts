/**
 * Issue 19 item 16: basic credentials are checked by comparing HMAC digests of both sides in constant time
 * (src/auth/basic.ts); these tests pin the outcomes the comparison must keep: only the exact pair of one
 * configured user passes, whatever lengths, prefixes or other users' passwords an attacker tries.
 */
import { describe, expect, it } from 'vitest';
import { checkUser, parseBasic } from '../../src/auth/basic.js';

const users = [
  { user: 'ditto', password: 'ditto' },
  { user: 'alice', password: 's3cret-pw' },
  { user: 'bob', password: 'päss:wörd' },
];

describe('basic credentials', () => {
  it('pass for the exact user and password of a configured user', () => {
    for (const u of users) expect(checkUser(users, { ...u })).toBe(true);
  });

  it("fail for another user's password, a prefix, an extension, a case change and an unknown user", () => {
    const wrong = [
      { user: 'alice', password: 'ditto' },
      { user: 'ditto', password: 's3cret-pw' },
      { user: 'alice', password: 's3cret' },
      { user: 'alice', password: 's3cret-pw ' },
      { user: 'alice', password: '' },
      { user: 'Alice', password: 's3cret-pw' },
      { user: 'alic', password: 's3cret-pw' },
      { user: 'mallory', password: 's3cret-pw' },
      { user: '', password: '' },
      { user: 'bob', password: 'päss:wörd'.normalize('NFD') },
    ];
    for (const credentials of wrong)
      expect(checkUser(users, credentials), JSON.stringify(credentials)).toBe(false);
  });

  it('fail against an empty user list', () => {
    expect(checkUser([], { user: 'ditto', password: 'ditto' })).toBe(false);
  });

  it('are parsed with the password after the first colon', () => {
    expect(parseBasic(`Basic ${Buffer.from('bob:päss:wörd').toString('base64')}`)).toEqual({
      user: 'bob',
      password: 'päss:wörd',
    });
    expect(checkUser(users, parseBasic(`Basic ${Buffer.from('bob:päss:wörd').toString('base64')}`)!)).toBe(
      true,
    );
  });
});
