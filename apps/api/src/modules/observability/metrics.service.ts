import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DataSource } from 'typeorm';

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Prometheus metrics of this process: HTTP per route, database pool, Node runtime. One registry per app. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;

  constructor(db: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'slotwise_' });
    this.requests = new Counter({
      name: 'slotwise_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'slotwise_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    const pool = () => (db.driver as unknown as { master?: PgPoolLike }).master;
    const poolGauge = (name: string, help: string, read: (p: PgPoolLike) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          this.set(p ? read(p) : 0);
        },
      });
    poolGauge('slotwise_db_pool_connections', 'Connections open in the database pool', (p) => p.totalCount);
    poolGauge('slotwise_db_pool_idle', 'Idle connections in the database pool', (p) => p.idleCount);
    poolGauge('slotwise_db_pool_waiting', 'Queries waiting for a pooled connection', (p) => p.waitingCount);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
