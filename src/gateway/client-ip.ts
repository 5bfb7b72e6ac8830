/**
 * The client's address: the socket's, or the right-most untrusted hop of X-Forwarded-For when
 * the request came from a configured trusted proxy (RFC 7239 §5.2 reasoning: only hops added by
 * proxies we trust can be believed).
 */
import { isIP } from 'node:net';

export function normalizeIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  // IPv4-mapped IPv6 from a dual-stack socket.
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip;
}

export function clientAddress(
  socketIp: string | undefined,
  forwardedFor: string | undefined,
  trusted: ReadonlySet<string>,
): string | undefined {
  let ip = normalizeIp(socketIp);
  if (!forwardedFor || !ip || !trusted.has(ip)) return ip;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i]!.trim());
    if (!hop || isIP(hop) === 0) return ip;
    ip = hop;
    if (!trusted.has(hop)) return hop;
  }
  return ip;
}
