/**
 * Options of the intelligence part, as the CLI composes them from warden.yaml.
 */
import { z } from 'zod';
import { ConfigError, formatIssuePath, NETWORK_TYPES } from '../core/index.js';
import { parseCidr } from './ip-address.js';

const cidr = z.string().refine((s) => parseCidr(s) !== null, {
  message: 'a CIDR range such as 203.0.113.0/24 or 2001:db8::/32, or a single address',
});

/** A network the operator knows about: an adversary's infrastructure, a partner's egress. */
export const CustomNetwork = z
  .strictObject({
    /** Shown in `labels`, e.g. `adversary:example-conglomerate` or `partner:acme-egress`. */
    label: z.string().min(1),
    cidrs: z.array(cidr).default([]),
    asns: z.array(z.number().int().nonnegative().max(4_294_967_295)).default([]),
    network_type: z.enum(NETWORK_TYPES).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in upper case, such as "SG"')
      .optional(),
    anonymizer: z.enum(['vpn', 'tor', 'proxy']).optional(),
  })
  .refine((n) => n.cidrs.length > 0 || n.asns.length > 0, { message: 'give at least one of cidrs or asns' });
export type CustomNetwork = z.infer<typeof CustomNetwork>;

export const IntelConfig = z.strictObject({
  /** Directory holding lists loaded with `warden intel load` (they override the shipped ones). */
  dataDir: z.string().optional(),
  customNetworks: z.array(CustomNetwork).default([]),
  /** Sources older than this many days produce a start-up warning. */
  maxSourceAgeDays: z.number().int().positive().default(90),
  /** Also load IPv6 ranges (about a third of the start-up time). */
  ipv6: z.boolean().default(true),
});
export type IntelConfig = z.infer<typeof IntelConfig>;
export type IntelConfigInput = z.input<typeof IntelConfig>;

/** Parses intelligence options, reporting every problem with its path. */
export function parseIntelConfig(input: unknown, where = 'intel'): IntelConfig {
  const r = IntelConfig.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${where}.${formatIssuePath(i.path)}: ${i.message}`);
  throw new ConfigError('CONFIG_INVALID', `invalid intelligence options:\n${lines.join('\n')}`);
}
