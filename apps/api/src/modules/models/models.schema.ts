// The request and response schemas live in libs/contracts (shared with the console and the client SDK).
export * from '@slotwise/contracts';
