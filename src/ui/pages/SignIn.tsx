/**
 * Sign-in: a user name and password (HTTP basic credentials of an API or devops user), or an OpenID Connect
 * bearer token. The console asks /ui/session what the credentials may do and keeps them for this tab.
 */
import { useState } from 'preact/hooks';
import { ApiError, basicAuthorization, request, setSession, type Session } from '../lib/api';
import { navigate, type Location } from '../lib/router';
import { useTitle } from '../lib/hooks';
import { Brand } from '../components/common';

interface SessionReply {
  api: { subjects: string[] } | null;
  devops: { subjects: string[] } | null;
}

export function SignIn(props: { location: Location }) {
  useTitle('Sign in');
  const [method, setMethod] = useState<'password' | 'token'>('password');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const expired = props.location.query.get('expired') === '1';

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    if (method === 'password' ? !user || !password : !token.trim()) {
      setError(method === 'password' ? 'Enter a username and a password.' : 'Paste a bearer token.');
      return;
    }
    const authorization =
      method === 'password' ? basicAuthorization(user, password) : `Bearer ${token.trim()}`;
    setBusy(true);
    try {
      const { body } = await request<SessionReply>('/ui/session', { authorization });
      const subjects = body.api?.subjects ?? body.devops?.subjects ?? [];
      const session: Session = {
        authorization,
        user: method === 'password' ? user : (subjects[0] ?? 'token'),
        api: body.api?.subjects ?? null,
        devops: body.devops?.subjects ?? null,
      };
      setSession(session);
      const next = props.location.query.get('next');
      navigate(
        next && next.startsWith('/') && !next.startsWith('/signin')
          ? next
          : session.api
            ? '/things'
            : '/overview',
        true,
      );
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? `Sign-in failed: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <main class="signin-card" id="main">
        <Brand class="signin-brand" />
        <h1 id="page-title" tabIndex={-1}>
          Sign in to the console
        </h1>
        {expired && (
          <div class="alert alert-warning" role="status">
            Your credentials were not accepted any more. Please sign in again.
          </div>
        )}
        <form onSubmit={submit} aria-describedby="signin-note" noValidate>
          <fieldset class="segmented">
            <legend>Sign in with</legend>
            <label>
              <input
                type="radio"
                name="method"
                value="password"
                checked={method === 'password'}
                onChange={() => setMethod('password')}
              />
              <span>User and password</span>
            </label>
            <label>
              <input
                type="radio"
                name="method"
                value="token"
                checked={method === 'token'}
                onChange={() => setMethod('token')}
              />
              <span>OpenID Connect token</span>
            </label>
          </fieldset>
          {method === 'password' ? (
            <>
              <div class="field">
                <label for="username">Username</label>
                <input
                  id="username"
                  name="username"
                  autoComplete="username"
                  required
                  value={user}
                  onInput={(e) => setUser(e.currentTarget.value)}
                  aria-describedby={error ? 'signin-error' : undefined}
                />
              </div>
              <div class="field">
                <label for="password">Password</label>
                <input
                  id="password"
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                />
              </div>
            </>
          ) : (
            <div class="field">
              <label for="token">Bearer token</label>
              <textarea
                id="token"
                name="token"
                rows={4}
                required
                spellcheck={false}
                value={token}
                onInput={(e) => setToken(e.currentTarget.value)}
                aria-describedby="token-hint"
              />
              <p class="hint" id="token-hint">
                A JWT of an issuer configured in <code>TWINBRIDGE_OIDC_ISSUERS</code>, without the word
                “Bearer”.
              </p>
            </div>
          )}
          {error && (
            <p class="field-error" id="signin-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="signin-note" id="signin-note">
          API users see things and policies; devops users see connections, the mapping tester and the
          overview. The console keeps the credentials in this browser tab only and sends them itself in an{' '}
          <code>Authorization</code> header.
        </p>
      </main>
    </div>
  );
}
