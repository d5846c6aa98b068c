import { Foundation1764345600000 } from './1764345600000-foundation';

/** Every migration, oldest first. New migrations are appended here. */
export const MIGRATIONS = [Foundation1764345600000];
