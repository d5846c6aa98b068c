import { MigrationInterface, QueryRunner } from 'typeorm';

/** Console users (argon2id password hashes) and their sessions (only a hash of the session token is stored). */
export class Console1764460800000 implements MigrationInterface {
  name = 'Console1764460800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE console_users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL,
      name text NOT NULL DEFAULT '',
      role text NOT NULL CHECK (role IN ('admin','editor','viewer')),
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      last_sign_in_at timestamptz,
      disabled_at timestamptz
    )`);
    await q.query(`CREATE UNIQUE INDEX console_users_email ON console_users (lower(email))`);
    await q.query(`CREATE TABLE console_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
      token_hash text NOT NULL,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      user_agent text
    )`);
    await q.query(`CREATE UNIQUE INDEX console_sessions_token_hash ON console_sessions (token_hash)`);
    await q.query(`CREATE INDEX console_sessions_user ON console_sessions (user_id)`);
    await q.query(`CREATE INDEX console_sessions_expires ON console_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_sessions`);
    await q.query(`DROP TABLE console_users`);
  }
}
