/**
 * Rate limits and budgets declared by the policy, counted with the Counters port: requests are
 * taken when a request arrives; tokens are debited when its response ends and enforced from
 * the next request on (a response's size is not known in advance).
 */
import type { Counters, LimitSpec, Period } from '../core/index.js';

export interface Periods {
  minute: Period;
  month: Period;
}

let lastPeriods: { minute: number; periods: Periods } | undefined;

/**
 * The minute and month `now` falls in. Every request asks (twice); the answer changes once a
 * minute (a month starts on a minute boundary too), so it is built once per minute and shared:
 * callers only read it.
 */
export function currentPeriods(now: number): Periods {
  const minute = Math.floor(now / 60_000);
  if (lastPeriods !== undefined && lastPeriods.minute === minute) return lastPeriods.periods;
  const periods = periodsOf(now, minute);
  lastPeriods = { minute, periods };
  return periods;
}

function periodsOf(now: number, minute: number): Periods {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    minute: { id: String(minute), endsAt: (minute + 1) * 60_000 },
    month: { id: `${y}-${String(m + 1).padStart(2, '0')}`, endsAt: Date.UTC(y, m + 1, 1) },
  };
}

export interface RateHeaders {
  requests?: { limit: number; remaining: number; resetAt: number };
  tokens?: { limit: number; remaining: number; resetAt: number };
}

export interface LimitOutcome {
  refused?: LimitSpec;
  message: string;
  retryAfterMs: number;
  headers: RateHeaders;
  subjects: Record<LimitSpec['scope'], string>;
}

const counterKey = (l: LimitSpec, subjects: Record<LimitSpec['scope'], string>) => `${l.kind}:${l.scope}:${subjects[l.scope]}`;

export async function checkLimits(
  counters: Counters,
  limits: LimitSpec[],
  subjects: Record<LimitSpec['scope'], string>,
  periods: Periods,
  now: number,
): Promise<LimitOutcome> {
  const headers: RateHeaders = {};
  const taken: { key: string }[] = [];
  const refuse = async (l: LimitSpec, message: string, period: Period): Promise<LimitOutcome> => {
    // Give back the requests already counted for this refused request.
    for (const t of taken) await counters.add(t.key, periods.minute, -1);
    return { refused: l, message, retryAfterMs: Math.max(1000, period.endsAt - now), headers, subjects };
  };
  // Token limits first: they only read.
  for (const l of limits) {
    if (l.kind === 'requests_per_minute') continue;
    const period = l.kind === 'monthly_tokens' ? periods.month : periods.minute;
    const used = await counters.peek(counterKey(l, subjects), period);
    if (l.kind === 'tokens_per_minute') {
      const remaining = Math.max(0, l.limit - used);
      if (!headers.tokens || remaining < headers.tokens.remaining) headers.tokens = { limit: l.limit, remaining, resetAt: period.endsAt };
    }
    if (used >= l.limit) {
      return refuse(
        l,
        l.kind === 'monthly_tokens'
          ? `The monthly token budget of your ${l.scope === 'org' ? 'organization' : l.scope} (${l.limit} tokens) is used up. It renews on the first of next month; contact your administrator to raise it.`
          : `Token rate limit reached (${l.limit} tokens per minute for this ${l.scope === 'org' ? 'organization' : l.scope}). Retry after the time in the retry-after header.`,
        period,
      );
    }
  }
  for (const l of limits) {
    if (l.kind !== 'requests_per_minute') continue;
    const key = counterKey(l, subjects);
    const r = await counters.take(key, periods.minute, 1, l.limit);
    const remaining = Math.max(0, l.limit - r.total);
    if (!headers.requests || remaining < headers.requests.remaining) headers.requests = { limit: l.limit, remaining, resetAt: periods.minute.endsAt };
    if (!r.ok) {
      return refuse(l, `Rate limit reached (${l.limit} requests per minute for this ${l.scope === 'org' ? 'organization' : l.scope}). Retry after the time in the retry-after header.`, periods.minute);
    }
    taken.push({ key });
  }
  return { message: '', retryAfterMs: 0, headers, subjects };
}

export async function debitTokens(
  counters: Counters,
  limits: LimitSpec[],
  subjects: Record<LimitSpec['scope'], string>,
  periods: Periods,
  tokens: number,
): Promise<void> {
  if (tokens <= 0) return;
  for (const l of limits) {
    if (l.kind === 'requests_per_minute') continue;
    await counters.add(counterKey(l, subjects), l.kind === 'monthly_tokens' ? periods.month : periods.minute, tokens);
  }
}
