import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditRepository } from '../audit/audit.repository';
import type { CreateUserInput, SetupInput, SignInInput, UpdateUserInput } from './console.schemas';
import { ConsoleUserRow, ConsoleUsersRepository, SessionRow } from './console-users.repository';
import { SignInThrottle } from './sign-in-throttle';

export interface ConsoleUserView {
  id: string;
  email: string;
  name: string;
  role: string;
  createdAt: string;
  lastSignInAt: string | null;
  disabled: boolean;
}

export interface SessionView {
  user: ConsoleUserView | null;
  /** Send as X-CSRF-Token on every write made with the session cookie. */
  csrfToken: string | null;
  expiresAt: string | null;
  /** No console user exists yet: the first-run setup page applies. */
  setupRequired: boolean;
}

export interface SignedIn {
  token: string;
  view: SessionView;
}

/** 429 for a throttled sign-in; the controller sends `retryAfterSeconds` as Retry-After. */
export class TooManySignIns extends Problem {
  constructor(
    readonly retryAfterSeconds: number,
    scope: 'account' | 'client' | 'global',
  ) {
    const why =
      scope === 'account'
        ? 'Too many failed sign-ins for this e-mail from your network'
        : scope === 'client'
          ? 'Too many failed sign-ins from your network'
          : 'Too many failed sign-ins on this server right now';
    super(429, `${why}; try again in ${retryAfterSeconds} s.`, undefined, 'too-many-attempts');
  }
}

/**
 * Console users and sessions. Passwords are argon2id (OWASP parameters: m = 19 MiB, t = 2, p = 1, the library
 * defaults); a session is a 256-bit random token in an HTTP-only cookie, stored as its SHA-256, with a CSRF token.
 */
@Injectable()
export class ConsoleAuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Console');
  /** Sign-in back-off per client and (client, e-mail), with a global cap, in bounded memory (docs/console.md). */
  readonly throttle = new SignInThrottle();
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: ConsoleUsersRepository,
    private readonly audit: AuditRepository,
    private readonly apiKeys: ApiKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The first admin from SLOTWISE_ADMIN_EMAIL / SLOTWISE_ADMIN_PASSWORD, unless a user with that e-mail exists. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.consoleAdmin;
    if (!admin) return;
    const passwordHash = await argon2Hash(admin.password);
    await this.users.transaction(async (m) => {
      await this.users.lockUsers(m);
      if (await this.users.findByEmail(admin.email, m)) return;
      const row = await this.users.insert(m, {
        id: randomUUID(),
        email: admin.email,
        name: 'Administrator',
        role: 'admin',
        passwordHash,
      });
      await this.audit.append(m, null, {
        action: 'console-user.create',
        entityType: 'console-user',
        entityId: row.id,
        before: null,
        after: view(row),
      });
      this.logger.log(`console admin ${admin.email} created from SLOTWISE_ADMIN_EMAIL`);
    });
  }

  async session(token: string | null): Promise<SessionView> {
    const found = token ? await this.authenticate(token) : null;
    if (found)
      return {
        user: view(found.user),
        csrfToken: found.csrfToken,
        expiresAt: new Date(found.expiresAt).toISOString(),
        setupRequired: false,
      };
    return { user: null, csrfToken: null, expiresAt: null, setupRequired: (await this.users.count()) === 0 };
  }

  async setup(input: SetupInput, userAgent: string | null): Promise<SignedIn> {
    const key = await this.apiKeys.authenticate(input.apiKey);
    if (!key || key.role !== 'admin')
      throw Problem.forbidden(
        'That is not an admin API key. Use the key printed at first start (or SLOTWISE_ADMIN_KEY).',
      );
    const passwordHash = await argon2Hash(input.password);
    const row = await this.users.transaction(async (m) => {
      await this.users.lockUsers(m);
      if ((await this.users.count(m)) > 0)
        throw Problem.conflict('The console is already set up; sign in instead.', 'already-set-up');
      const created = await this.users.insert(m, {
        id: randomUUID(),
        email: input.email,
        name: input.name,
        role: 'admin',
        passwordHash,
      });
      await this.audit.append(m, key, {
        action: 'console-user.create',
        entityType: 'console-user',
        entityId: created.id,
        before: null,
        after: view(created),
      });
      return created;
    });
    return this.openSession(row, userAgent);
  }

  /** `client`: the caller's IP address (request.ip), the unit of throttling. */
  async signIn(input: SignInInput, userAgent: string | null, client: string): Promise<SignedIn> {
    const email = input.email.toLowerCase();
    const decision = this.throttle.attempt(client, email);
    if (!decision.allowed)
      throw new TooManySignIns(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)), decision.scope);
    const { attempt } = decision;
    let row: ConsoleUserRow | null;
    let ok: boolean;
    try {
      row = await this.users.findByEmail(email);
      // Verify against a dummy hash when the user is unknown, so timing does not tell which e-mails exist.
      ok = await argon2Verify(row?.passwordHash ?? (await this.dummy()), input.password).catch(() => false);
    } catch (err) {
      attempt.cancelled(); // not the caller's failure (the database): take the reservation back
      throw err;
    }
    if (!row || !ok || row.disabledAt) {
      attempt.failed();
      throw Problem.unauthorized('The e-mail or password is not right.');
    }
    attempt.succeeded();
    await this.users.markSignedIn(row.id);
    void this.users.deleteExpiredSessions().catch(() => undefined);
    return this.openSession(row, userAgent);
  }

  async signOut(token: string | null, csrfToken: string | undefined): Promise<void> {
    if (!token) return;
    const found = await this.authenticate(token);
    if (!found) return;
    if (!csrfMatches(found.csrfToken, csrfToken)) throw csrfProblem();
    await this.users.deleteSession(hashToken(token));
  }

  /** For the guard: the principal of a session cookie, checking the CSRF token on writes. */
  async principalFor(token: string, method: string, csrfToken: string | undefined): Promise<Principal> {
    const found = await this.authenticate(token);
    if (!found) throw Problem.unauthorized('Your console session has expired or was signed out; sign in again.');
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase()) && !csrfMatches(found.csrfToken, csrfToken))
      throw csrfProblem();
    return { keyId: `user:${found.user.id}`, name: found.user.email, role: found.user.role, userId: found.user.id };
  }

  async listUsers(): Promise<ConsoleUserView[]> {
    return (await this.users.list()).map(view);
  }

  async createUser(input: CreateUserInput, actor: Principal): Promise<ConsoleUserView> {
    const passwordHash = await argon2Hash(input.password);
    const row = await this.users.transaction(async (m) => {
      if (await this.users.findByEmail(input.email, m))
        throw Problem.conflict(`A console user with e-mail ${input.email} already exists.`, 'duplicate-email');
      let created: ConsoleUserRow;
      try {
        created = await this.users.insert(m, {
          id: randomUUID(),
          email: input.email,
          name: input.name,
          role: input.role,
          passwordHash,
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw Problem.conflict(`A console user with e-mail ${input.email} already exists.`, 'duplicate-email');
        throw err;
      }
      await this.audit.append(m, actor, {
        action: 'console-user.create',
        entityType: 'console-user',
        entityId: created.id,
        before: null,
        after: view(created),
      });
      return created;
    });
    return view(row);
  }

  async updateUser(id: string, input: UpdateUserInput, actor: Principal): Promise<ConsoleUserView> {
    const passwordHash = input.password ? await argon2Hash(input.password) : undefined;
    return this.users.transaction(async (m) => {
      await this.users.lockUsers(m);
      const before = await this.users.findById(id, m);
      if (!before) throw Problem.notFound(`No console user with id ${id}.`);
      const losesAdmin =
        before.role === 'admin' &&
        !before.disabledAt &&
        ((input.role && input.role !== 'admin') || input.disabled === true);
      if (losesAdmin && (await this.users.countActiveAdmins(m)) <= 1) {
        throw Problem.conflict('This is the last active console admin; make another user admin first.', 'last-admin');
      }
      await this.users.update(m, id, { name: input.name, role: input.role, passwordHash, disabled: input.disabled });
      // A new password, a role change or disabling ends the user's sessions.
      if (passwordHash || input.disabled || (input.role && input.role !== before.role))
        await this.users.deleteSessionsOf(m, id);
      const after = (await this.users.findById(id, m))!;
      await this.audit.append(m, actor, {
        action: 'console-user.update',
        entityType: 'console-user',
        entityId: id,
        before: view(before),
        after: { ...view(after), ...(passwordHash ? { passwordChanged: true } : {}) },
      });
      return view(after);
    });
  }

  async deleteUser(id: string, actor: Principal): Promise<void> {
    await this.users.transaction(async (m) => {
      await this.users.lockUsers(m);
      const before = await this.users.findById(id, m);
      if (!before) throw Problem.notFound(`No console user with id ${id}.`);
      if (before.role === 'admin' && !before.disabledAt && (await this.users.countActiveAdmins(m)) <= 1) {
        throw Problem.conflict('This is the last active console admin; make another user admin first.', 'last-admin');
      }
      await this.users.delete(m, id);
      await this.audit.append(m, actor, {
        action: 'console-user.delete',
        entityType: 'console-user',
        entityId: id,
        before: view(before),
        after: null,
      });
    });
  }

  private async authenticate(token: string): Promise<SessionRow | null> {
    return this.users.findSession(hashToken(token));
  }

  private async openSession(user: ConsoleUserRow, userAgent: string | null): Promise<SignedIn> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = await this.users.insertSession({
      userId: user.id,
      tokenHash: hashToken(token),
      csrfToken,
      ttlSeconds: this.config.sessionTtlSeconds,
      userAgent: userAgent?.slice(0, 300) ?? null,
    });
    return {
      token,
      view: { user: view(user), csrfToken, expiresAt: new Date(expiresAt).toISOString(), setupRequired: false },
    };
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= argon2Hash(randomBytes(16).toString('hex')));
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function csrfMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function csrfProblem(): Problem {
  return new Problem(
    403,
    'Missing or wrong X-CSRF-Token header: writes made with a console session must carry the token from GET /v1/console/session.',
    undefined,
    'csrf',
  );
}

function view(row: ConsoleUserRow): ConsoleUserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: new Date(row.createdAt).toISOString(),
    lastSignInAt: row.lastSignInAt ? new Date(row.lastSignInAt).toISOString() : null,
    disabled: row.disabledAt !== null,
  };
}
