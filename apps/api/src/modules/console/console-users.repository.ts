import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { ConsoleRole } from './console.schemas';

export interface ConsoleUserRow {
  id: string;
  email: string;
  name: string;
  role: ConsoleRole;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
  lastSignInAt: Date | null;
  disabledAt: Date | null;
}

export interface SessionRow {
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  user: ConsoleUserRow;
}

const USER_COLUMNS = `u.id, u.email, u.name, u.role, u.password_hash AS "passwordHash", u.created_at AS "createdAt", u.updated_at AS "updatedAt",
  u.last_sign_in_at AS "lastSignInAt", u.disabled_at AS "disabledAt"`;

/** Every SQL statement about console users and sessions. */
@Injectable()
export class ConsoleUsersRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async count(manager: EntityManager = this.db.manager): Promise<number> {
    const [row] = await manager.query(`SELECT count(*)::int AS n FROM console_users`);
    return row.n;
  }

  /** Serialises first-run setup and last-admin checks (one writer at a time on the users table). */
  async lockUsers(manager: EntityManager): Promise<void> {
    await manager.query(`LOCK TABLE console_users IN SHARE ROW EXCLUSIVE MODE`);
  }

  async countActiveAdmins(manager: EntityManager): Promise<number> {
    const [row] = await manager.query(
      `SELECT count(*)::int AS n FROM console_users WHERE role = 'admin' AND disabled_at IS NULL`,
    );
    return row.n;
  }

  async findByEmail(email: string, manager: EntityManager = this.db.manager): Promise<ConsoleUserRow | null> {
    const rows = await manager.query(`SELECT ${USER_COLUMNS} FROM console_users u WHERE lower(u.email) = lower($1)`, [
      email,
    ]);
    return rows[0] ?? null;
  }

  async findById(id: string, manager: EntityManager = this.db.manager): Promise<ConsoleUserRow | null> {
    const rows = await manager.query(`SELECT ${USER_COLUMNS} FROM console_users u WHERE u.id = $1`, [id]);
    return rows[0] ?? null;
  }

  list(): Promise<ConsoleUserRow[]> {
    return this.db.query(`SELECT ${USER_COLUMNS} FROM console_users u ORDER BY u.created_at ASC, u.email ASC`);
  }

  async insert(
    manager: EntityManager,
    user: { id: string; email: string; name: string; role: ConsoleRole; passwordHash: string },
  ): Promise<ConsoleUserRow> {
    await manager.query(
      `INSERT INTO console_users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)`,
      [user.id, user.email, user.name, user.role, user.passwordHash],
    );
    return (await this.findById(user.id, manager))!;
  }

  async update(
    manager: EntityManager,
    id: string,
    change: { name?: string; role?: ConsoleRole; passwordHash?: string; disabled?: boolean },
  ): Promise<void> {
    await manager.query(
      `UPDATE console_users SET
         name = COALESCE($2, name), role = COALESCE($3, role), password_hash = COALESCE($4, password_hash),
         disabled_at = CASE WHEN $5::boolean IS NOT FALSE THEN disabled_at END,
         updated_at = now()
       WHERE id = $1`,
      [id, change.name ?? null, change.role ?? null, change.passwordHash ?? null, change.disabled ?? null],
    );
    // A second statement, not COALESCE(disabled_at, now()) in the CASE above: Citus refuses a non-immutable
    // function inside CASE or COALESCE in an UPDATE (console_users is a reference table there).
    if (change.disabled)
      await manager.query(`UPDATE console_users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL`, [id]);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM console_users WHERE id = $1`, [id]);
  }

  async markSignedIn(id: string): Promise<void> {
    await this.db.query(`UPDATE console_users SET last_sign_in_at = now() WHERE id = $1`, [id]);
  }

  async insertSession(session: {
    userId: string;
    tokenHash: string;
    csrfToken: string;
    ttlSeconds: number;
    userAgent: string | null;
  }): Promise<Date> {
    const [row] = await this.db.query(
      `INSERT INTO console_sessions (user_id, token_hash, csrf_token, expires_at, user_agent)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5) RETURNING expires_at AS "expiresAt"`,
      [session.userId, session.tokenHash, session.csrfToken, session.ttlSeconds, session.userAgent],
    );
    return row.expiresAt;
  }

  /** The live session for a token hash, with its (enabled) user; expired sessions are not found. */
  async findSession(tokenHash: string): Promise<SessionRow | null> {
    const rows = await this.db.query(
      `SELECT s.id AS "sessionId", s.csrf_token AS "csrfToken", s.expires_at AS "expiresAt", ${USER_COLUMNS}
       FROM console_sessions s JOIN console_users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`,
      [tokenHash],
    );
    if (!rows[0]) return null;
    const { sessionId, csrfToken, expiresAt, ...user } = rows[0];
    return { sessionId, csrfToken, expiresAt, user };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.query(`DELETE FROM console_sessions WHERE token_hash = $1`, [tokenHash]);
  }

  async deleteSessionsOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`DELETE FROM console_sessions WHERE user_id = $1`, [userId]);
  }

  async deleteExpiredSessions(): Promise<void> {
    await this.db.query(`DELETE FROM console_sessions WHERE expires_at <= now()`);
  }
}
