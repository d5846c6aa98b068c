import type { OpenAPIObject } from '@nestjs/swagger';
import { ROUTES, type RouteContract } from '@slotwise/contracts';
import { z } from 'zod';

const PROBLEM = {
  description:
    'application/problem+json: `type, title, status, detail` and, for validation, `errors: [{path, message}]`',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              properties: { path: { type: 'string' }, message: { type: 'string' } },
              required: ['path', 'message'],
            },
          },
        },
        required: ['type', 'title', 'status'],
      },
    },
  },
};

/**
 * Puts the response schemas of libs/contracts (`ROUTES`) into the OpenAPI document Nest built from the controllers:
 * each operation's success response (JSON Schema from zod, output side) and the problem+json error. Returns the
 * operations the contracts do not describe (a test keeps that list empty).
 */
export function applyResponseSchemas(document: OpenAPIObject): string[] {
  const missing: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const contract = (ROUTES as Record<string, RouteContract>)[key];
      if (!contract) {
        missing.push(key);
        continue;
      }
      const success = contract.response
        ? {
            description: 'OK',
            content: {
              'application/json': {
                schema: z.toJSONSchema(contract.response, { io: 'output', unrepresentable: 'any' }) as object,
              },
            },
          }
        : contract.contentType
          ? { description: 'OK', content: { [contract.contentType]: { schema: { type: 'string' } } } }
          : { description: 'No content' };
      // Nest's default entry (201 for POST, 200 otherwise) gives way to the real status.
      op.responses = { [String(contract.status)]: success, default: PROBLEM };
    }
  }
  return missing;
}
