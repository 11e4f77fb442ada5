/**
 * Routing in the browser: the console's pages live under /ui/… (the service answers index.html for all of
 * them), navigation uses the History API, and `route()` matches `:name` segments.
 */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

export interface Location {
  /** The path below /ui, e.g. `/things/org.example:lamp`. */
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(location.search) };
}

addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** Goes to `to` (a path below /ui with an optional query); `replace` keeps the history entry. */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const listener = () => setLocation(current());
    listeners.add(listener);
    // A child may have navigated before this effect ran (children's effects run first).
    listener();
    return () => void listeners.delete(listener);
  }, []);
  return location;
}

/** The parameters of `pattern` (e.g. `/things/:id`) in `path`, decoded, or undefined when it does not match. */
export function route(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (got[i] === '') return undefined;
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

/** An in-app link's click: handled by the router unless the user asks for a new tab or window. */
export function linkClick(event: MouseEvent, to: string): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  event.preventDefault();
  navigate(to);
}
