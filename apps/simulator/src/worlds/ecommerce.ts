/** The e-commerce world lives in libs/simulation (the API's demo traffic uses it too). */
export * from '@slotwise/simulation';
