/**
 * @slotwise/contracts: the zod schemas of every request and response body of the Slotwise API. The API validates
 * with them and builds its OpenAPI document from them; the console and the client SDK (@slotwise/client) take
 * their types from them. Pure TypeScript (zod and the pure libraries only), so a browser bundle can import it.
 */
export * from './unit-id';
export * from './model-ref';
export * from './experiments';
export * from './policy-options';
export * from './ab';
export * from './items';
export * from './rank';
export * from './decision-log';
export * from './ope';
export * from './features';
export * from './models';
export * from './api-keys';
export * from './webhooks';
export * from './reports';
export * from './console';
export * from './responses';
export * from './routes';
