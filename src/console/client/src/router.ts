/**
 * Hash routing (`/console/#/cases/case_1`): every page has a link of its own, and a deep link
 * works whatever the server does with unknown paths under /console/. Path links
 * (`/console/cases/case_1`) are read the same way when the server answers them with the app.
 */
import { useEffect, useState } from 'react';

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(): Route {
  // A path link (/console/cases/case_1, which the server answers with the app) reads like its hash twin.
  const { hash, pathname, search } = window.location;
  const fromPath = pathname.startsWith('/console/') && pathname.length > '/console/'.length ? `${pathname.slice('/console'.length)}${search}` : '';
  const raw = hash.replace(/^#/, '') || fromPath || '/overview';
  const [p = '', q = ''] = raw.split('?');
  return { parts: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | undefined>, replace = false): void {
  const h = href(path, query);
  if (replace) window.history.replaceState(null, '', h);
  else window.location.hash = h.slice(1);
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}
