/**
 * @slotwise/simulation: simulated worlds (users, items, true click probabilities) that drive the API as a client —
 * the simulator app and the API's demo traffic use them; no app imports another app.
 */
export * from './world';
export * from './ecommerce';
