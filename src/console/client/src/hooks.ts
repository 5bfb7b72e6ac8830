import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  status: number | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null = nothing yet) and keeps the last good data while reloading. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; status?: number; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    api
      .get<T>(path, ctl.signal)
      .then((data) => setState({ data, loading: false }))
      .catch((e: unknown) => {
        if ((e as Error).name === 'AbortError') return;
        setState({ error: errorText(e), status: (e as { status?: number }).status, loading: false });
      });
    return () => ctl.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, status: state.status, loading: state.loading, reload };
}

/** Sets document.title and moves focus to the page's h1 on navigation (screen readers hear the new page). */
export function usePageTitle(title: string): React.RefObject<HTMLHeadingElement | null> {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Warden`;
  }, [title]);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return ref;
}
