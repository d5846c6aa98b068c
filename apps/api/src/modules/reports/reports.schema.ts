import { z } from 'zod';

export const reportQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
});
export type ReportQuery = z.infer<typeof reportQuerySchema>;
