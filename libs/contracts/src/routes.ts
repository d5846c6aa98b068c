/**
 * Every operation of the API with its response body schema: the one table the OpenAPI document
 * (apps/api/src/openapi.ts), the client SDK and the e2e contract check (test/support/test-app.ts) read.
 * Keys are `METHOD /path` with OpenAPI `{param}` placeholders. `response: null` marks a body that is not JSON
 * (`contentType` names it) or no body at all (204).
 */
import type { z } from 'zod';
import * as r from './responses';

export interface RouteContract {
  /** the success status */
  status: number;
  response: z.ZodType | null;
  /** media type of a non-JSON success body */
  contentType?: string;
}

const json = <S extends z.ZodType>(response: S, status = 200) => ({ status, response });
const empty = { status: 204, response: null };
const other = (contentType: string) => ({ status: 200, response: null, contentType });

export const ROUTES = {
  'GET /health': json(r.healthSchema),
  'GET /metrics': other('text/plain'),

  'POST /v1/rank': json(r.rankResponseSchema),
  'POST /v1/rewards': json(r.batchResultSchema),
  'POST /v1/assign': json(r.assignResponseSchema),
  'POST /v1/events': json(r.batchResultSchema),
  'POST /v1/exposures': json(r.batchResultSchema),

  'POST /v1/experiments': json(r.experimentViewSchema, 201),
  'GET /v1/experiments': json(r.experimentListSchema),
  'GET /v1/experiments/{key}': json(r.experimentViewSchema),
  'PATCH /v1/experiments/{key}': json(r.experimentViewSchema),
  'POST /v1/experiments/{key}/start': json(r.experimentViewSchema),
  'POST /v1/experiments/{key}/pause': json(r.experimentViewSchema),
  'POST /v1/experiments/{key}/stop': json(r.experimentViewSchema),
  'POST /v1/experiments/{key}/ship': json(r.experimentViewSchema),
  'GET /v1/audit': json(r.auditListSchema),

  'GET /v1/experiments/{key}/report': json(r.reportSchema),
  'GET /v1/experiments/{key}/report.html': other('text/html'),
  'POST /v1/experiments/{key}/report/refresh': json(r.reportSchema),
  'GET /v1/experiments/{key}/report/timeseries': json(r.timeseriesSchema),
  'POST /v1/stats/power': json(r.powerResultSchema),

  'GET /v1/experiments/{key}/decisions': json(r.decisionLogSchema),
  'POST /v1/experiments/{key}/decisions/import': json(r.decisionImportResultSchema),
  'POST /v1/experiments/{key}/ope': json(r.opeRunSchema),
  'GET /v1/experiments/{key}/ope': json(r.opeRunListSchema),
  'GET /v1/experiments/{key}/ope/{id}': json(r.opeRunSchema),
  'GET /v1/experiments/{key}/ope/shadows': json(r.shadowValuesSchema),
  'GET /v1/experiments/{key}/ope/shadows/{variant}/decisions': json(r.shadowDecisionListSchema),
  'GET /v1/experiments/{key}/training-export': other('application/x-ndjson'),

  'POST /v1/metrics': json(r.metricDefinitionViewSchema, 201),
  'GET /v1/metrics': json(r.metricDefinitionListSchema),
  'GET /v1/metrics/{key}': json(r.metricDefinitionViewSchema),
  'PATCH /v1/metrics/{key}': json(r.metricDefinitionViewSchema),
  'GET /v1/layers': json(r.layerListSchema),
  'GET /v1/layers/{key}': json(r.layerViewSchema),
  'PUT /v1/layers/{key}': json(r.layerViewSchema),
  'DELETE /v1/units/{unitId}': json(r.unitErasureSchema),

  'PUT /v1/items/{id}': json(r.itemViewSchema),
  'POST /v1/items/batch': json(r.itemBatchResultSchema),
  'GET /v1/items/{id}': json(r.itemViewSchema),
  'POST /v1/models': json(r.modelViewSchema, 201),
  'GET /v1/models': json(r.modelListSchema),

  'POST /v1/features': json(r.featureDefinitionViewSchema, 201),
  'GET /v1/features': json(r.featureDefinitionListSchema),
  'GET /v1/features/{name}': json(r.featureDefinitionViewSchema),
  'PATCH /v1/features/{name}': json(r.featureDefinitionViewSchema),
  'GET /v1/units/{unitId}/features': json(r.unitFeatureValuesSchema),
  'GET /v1/items/{itemId}/features': json(r.itemFeatureValuesSchema),

  'POST /v1/api-keys': json(r.createdApiKeySchema, 201),
  'GET /v1/api-keys': json(r.apiKeyListSchema),
  'DELETE /v1/api-keys/{id}': empty,

  'GET /v1/console/session': json(r.sessionSchema),
  'POST /v1/console/setup': json(r.sessionSchema),
  'POST /v1/console/sign-in': json(r.sessionSchema),
  'POST /v1/console/sign-out': empty,
  'GET /v1/console/users': json(r.consoleUserListSchema),
  'POST /v1/console/users': json(r.consoleUserSchema, 201),
  'PATCH /v1/console/users/{id}': json(r.consoleUserSchema),
  'DELETE /v1/console/users/{id}': empty,

  'POST /v1/triggers': json(r.triggerViewSchema, 201),
  'GET /v1/triggers': json(r.triggerListSchema),
  'GET /v1/triggers/{id}': json(r.triggerViewSchema),
  'PATCH /v1/triggers/{id}': json(r.triggerViewSchema),
  'DELETE /v1/triggers/{id}': empty,
  'GET /v1/triggers/{id}/firings': json(r.triggerFiringListSchema),
  'POST /v1/webhooks': json(r.createdWebhookSchema, 201),
  'GET /v1/webhooks': json(r.webhookListSchema),
  'GET /v1/webhooks/{id}': json(r.webhookViewSchema),
  'PATCH /v1/webhooks/{id}': json(r.webhookViewSchema),
  'DELETE /v1/webhooks/{id}': empty,
  'GET /v1/webhooks/{id}/deliveries': json(r.webhookDeliveryListSchema),
  'GET /v1/webhooks/{id}/deliveries/{deliveryId}': json(r.webhookDeliverySchema),
  'POST /v1/webhooks/{id}/test': json(r.webhookDeliverySchema, 201),
  'POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': json(r.webhookDeliverySchema, 201),
} satisfies Record<string, RouteContract>;

export type RouteKey = keyof typeof ROUTES;
/** The parsed response body of an operation. */
export type ResponseOf<K extends RouteKey> = (typeof ROUTES)[K]['response'] extends infer S extends z.ZodType
  ? z.output<S>
  : undefined;

const compiled = Object.entries(ROUTES as Record<string, RouteContract>).map(([key, contract]) => {
  const [method, path] = key.split(' ');
  const pattern = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return { method, path, pattern, contract, key };
});

/** The operation a request goes to (`GET`, `/v1/experiments/home/report?x=1`), or null when none matches. */
export function routeOf(method: string, url: string): { key: string; contract: RouteContract } | null {
  const path = url.split('?')[0];
  const m = method.toUpperCase();
  // a literal segment wins over a placeholder (`/v1/items/batch` before `/v1/items/{id}`)
  const hits = compiled.filter((c) => c.method === m && c.pattern.test(path));
  if (!hits.length) return null;
  hits.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
  return { key: hits[0].key, contract: hits[0].contract };
}
