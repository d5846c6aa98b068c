/** The simulator calls the API through the typed client SDK (libs/client). */
export { ApiError, SlotwiseClient, sleep } from '@slotwise/client';
