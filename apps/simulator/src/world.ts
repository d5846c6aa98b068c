/** The world interface lives in libs/simulation (shared with the API's demo traffic). */
export * from '@slotwise/simulation';
