import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, toProblem } from './problem.filter';

/** The errors node-postgres and TypeORM raise when the server restarts or drops a connection: 503, not 500. */
describe('database unavailability → 503', () => {
  const pgError = (code: string, message: string) => {
    const e = new DatabaseError(message, message.length, 'error');
    e.code = code;
    return e;
  };

  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection because of crash of another server process'],
    ['57P03', 'the database system is starting up'],
    ['53300', 'sorry, too many clients already'],
    ['08006', 'connection failure'],
    ['08003', 'connection does not exist'],
    ['40P01', 'deadlock detected'],
  ])('SQLSTATE %s (%s), bare and inside a QueryFailedError', (code, message) => {
    const raw = pgError(code, message);
    expect(isDatabaseUnavailable(raw)).toBe(true);
    const wrapped = new QueryFailedError('SELECT 1', [], raw);
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
    const problem = toProblem(wrapped, 'req-1');
    expect(problem).toMatchObject({
      status: 503,
      type: 'https://slotwise.dev/problems/database-unavailable',
      requestId: 'req-1',
    });
  });

  it('socket errors and the driver messages without a code', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE'])
      expect(isDatabaseUnavailable(Object.assign(new Error(`read ${code}`), { code }))).toBe(true);
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(isDatabaseUnavailable(new Error(message))).toBe(true);
    }
  });

  it('leaves real faults as 500: a syntax error, a constraint violation, a TypeError', () => {
    expect(isDatabaseUnavailable(pgError('42601', 'syntax error at or near "SELEC"'))).toBe(false);
    expect(
      isDatabaseUnavailable(
        new QueryFailedError('INSERT', [], pgError('23505', 'duplicate key value violates unique constraint')),
      ),
    ).toBe(false);
    expect(toProblem(new TypeError("Cannot read properties of undefined (reading 'x')")).status).toBe(500);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
