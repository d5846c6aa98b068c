import { ROUTES, routeOf } from '@slotwise/contracts';
import { startTestApp, TestApp } from './support/test-app';

// Issue 16: every OpenAPI operation has a response schema from libs/contracts, and the contracts name no operation
// the API does not have. (That each answer parses with its schema is checked by callApi in every e2e test.)
describe('API contracts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 180_000);
  afterAll(async () => {
    await t?.close(true);
  });

  it('gives every OpenAPI operation its success response (a JSON schema, a media type or 204) and the problem+json error', async () => {
    const res = await t.call('GET', '/docs/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const operations: string[] = [];
    const undocumented: string[] = [];
    for (const [path, item] of Object.entries(
      res.body.paths as Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
      >,
    )) {
      for (const [method, op] of Object.entries(item)) {
        const key = `${method.toUpperCase()} ${path}`;
        operations.push(key);
        const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
        const ok =
          success.length === 1 &&
          (success[0][0] === '204' || Object.values(success[0][1].content ?? {}).some((c) => c.schema));
        if (!ok || !op.responses.default?.content?.['application/problem+json']) undocumented.push(key);
      }
    }
    expect(undocumented).toEqual([]);
    expect(operations.sort()).toEqual(Object.keys(ROUTES).sort());
    // the report's schema is spelled out, not an empty object
    const report =
      res.body.paths['/v1/experiments/{key}/report'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(report.properties)).toEqual(
      expect.arrayContaining(['recommendation', 'metrics', 'srm', 'health']),
    );
  });
});

describe('routeOf', () => {
  it('finds the operation of a concrete URL, literal segments before placeholders', () => {
    expect(routeOf('post', '/v1/items/batch')?.key).toBe('POST /v1/items/batch');
    expect(routeOf('GET', '/v1/items/abc')?.key).toBe('GET /v1/items/{id}');
    expect(routeOf('GET', '/v1/experiments/home/report?alpha=0.1')?.key).toBe('GET /v1/experiments/{key}/report');
    expect(routeOf('GET', '/v1/experiments/home/report.html')?.key).toBe('GET /v1/experiments/{key}/report.html');
    expect(routeOf('GET', '/v1/nothing')).toBeNull();
  });
});
