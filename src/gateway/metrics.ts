/**
 * Prometheus metrics of the gateway (served at /metrics).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'api' | 'endpoint' | 'decision' | 'status'>;
  refusals: Counter<'rule'>;
  gatewaySeconds: Histogram<'api'>;
  upstreamSeconds: Histogram<'api'>;
  upstreamErrors: Counter<'kind'>;
  parseErrors: Counter<'code'>;
  outboxBacklog: Gauge;
  busPending: Gauge;
  inflight: Gauge;
  unavailable: Counter<'component' | 'mode'>;
  policyVersion: Gauge;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createGatewayMetrics(opts: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'warden_process_' });
  const m: GatewayMetrics = {
    registry,
    requests: new Counter({
      name: 'warden_requests_total',
      help: 'Requests by API, endpoint, decision and HTTP status',
      labelNames: ['api', 'endpoint', 'decision', 'status'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'warden_refusals_total',
      help: 'Requests refused, by the rule that refused them',
      labelNames: ['rule'],
      registers: [registry],
    }),
    gatewaySeconds: new Histogram({
      name: 'warden_gateway_seconds',
      help: "Time spent in the gateway itself (total minus the upstream's time)",
      labelNames: ['api'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamSeconds: new Histogram({
      name: 'warden_upstream_seconds',
      help: 'Upstream time, from sending the request to the end of its response',
      labelNames: ['api'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: 'warden_upstream_errors_total',
      help: 'Upstream failures by kind (connect, timeout, status_5xx, status_4xx, aborted)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    parseErrors: new Counter({
      name: 'warden_http_parse_errors_total',
      help: 'Requests the HTTP parser refused (e.g. CR/LF in a header value)',
      labelNames: ['code'],
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'warden_outbox_backlog',
      help: 'Usage events in the local outbox not yet published to the bus',
      registers: [registry],
    }),
    busPending: new Gauge({
      name: 'warden_bus_pending',
      help: 'Usage events published but not yet consumed by the store writer',
      registers: [registry],
    }),
    inflight: new Gauge({ name: 'warden_inflight_requests', help: 'Requests in flight', registers: [registry] }),
    unavailable: new Counter({
      name: 'warden_backing_unavailable_total',
      help: 'Requests decided while a backing service failed, by component and mode (open: decided without it; closed: refused with 503)',
      labelNames: ['component', 'mode'],
      registers: [registry],
    }),
    policyVersion: new Gauge({ name: 'warden_policy_version', help: 'Active policy version', registers: [registry] }),
  };
  return m;
}
