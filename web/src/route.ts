/**
 * Deep links: every view's state lives in the URL hash, `#/<view>[/<id>][?key=value&…]`,
 * so a link, a reload or the back button lands on the same view.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  view: string;
  id: number | null;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const [view = '', id] = path.split('/');
  const n = id !== undefined && /^\d+$/.test(id) ? Number(id) : null;
  return { view: view || 'map', id: n, params };
}

/** A hash link: href('still', 12) → '#/still/12'; params with empty values are dropped. */
export function href(
  view: string,
  id?: number | null,
  params: Record<string, string | number | null | undefined> = {},
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${view}${id !== undefined && id !== null ? `/${id}` : ''}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    window.addEventListener('popstate', on);
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return route;
}
