/**
 * The console's HTTP client. Every request carries the session's `Authorization` header, set by the console
 * itself: `credentials: 'omit'` keeps the browser's own credentials (cookies, a cached basic-auth login) out,
 * and `X-Requested-With: XMLHttpRequest` asks the service not to answer 401 with a basic-auth challenge, so
 * the browser never shows its login prompt (src/api/http/errors.ts).
 */
import { useEffect, useState } from 'preact/hooks';

/** Ditto's error JSON (§2.11). */
export interface DittoErrorBody {
  status: number;
  error: string;
  message: string;
  description?: string;
  href?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: DittoErrorBody | undefined,
    readonly headers: Headers,
  ) {
    super(body?.message ?? `The service answered ${status}.`);
    this.name = 'ApiError';
  }

  get code(): string | undefined {
    return this.body?.error;
  }
}

export interface Session {
  /** The value of the Authorization header. */
  authorization: string;
  /** Who signed in: the user name, or the token's first subject. */
  user: string;
  /** Subjects as an API user, or null when the credentials are not an API user's. */
  api: string[] | null;
  /** Subjects as a devops user (connections, mapping tester, overview), or null. */
  devops: string[] | null;
}

const SESSION_KEY = 'twinbridge.console.session';
let session: Session | null = readSession();
const sessionListeners = new Set<() => void>();

function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

/** Kept for this browser tab only (sessionStorage): closing the tab signs out. */
export function setSession(next: Session | null): void {
  session = next;
  if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(SESSION_KEY);
  for (const listener of sessionListeners) listener();
}

export function useSession(): Session | null {
  const [, rerender] = useState(0);
  useEffect(() => {
    const listener = () => rerender((n) => n + 1);
    sessionListeners.add(listener);
    return () => void sessionListeners.delete(listener);
  }, []);
  return session;
}

/** The headers every console request sends (also used by the SSE reader). */
export function authHeaders(authorization = session?.authorization): Record<string, string> {
  return { ...(authorization ? { authorization } : {}), 'x-requested-with': 'XMLHttpRequest' };
}

export interface RequestOptions {
  method?: string;
  /** Sent as JSON unless `contentType` says otherwise and it is a string. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Another Authorization header than the session's (sign-in). */
  authorization?: string;
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Called when the session's credentials stop working (a 401): the app returns to the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function handleUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function request<T = unknown>(path: string, options: RequestOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...authHeaders(options.authorization),
    ...options.headers,
  };
  let body: string | undefined;
  if (options.body !== undefined) {
    const contentType = options.contentType ?? 'application/json';
    headers['content-type'] = contentType;
    body =
      typeof options.body === 'string' && contentType !== 'application/json'
        ? options.body
        : JSON.stringify(options.body);
  }
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body,
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  } else if (text !== '') parsed = text;
  if (!response.ok && response.status !== 304) {
    const error = new ApiError(response.status, isDittoError(parsed) ? parsed : undefined, response.headers);
    if (response.status === 401 && options.authorization === undefined && session) onUnauthorized();
    throw error;
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

function isDittoError(value: unknown): value is DittoErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DittoErrorBody).error === 'string' &&
    typeof (value as DittoErrorBody).message === 'string'
  );
}

/** `Basic <base64(user:password)>` of UTF-8 credentials. */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

export const enc = encodeURIComponent;
