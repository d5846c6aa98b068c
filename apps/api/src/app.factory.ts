import 'reflect-metadata';
import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import { AppModule } from './app.module';
import { registerSecurityHeaders } from './common/http/security-headers';
import { registerJsonBodyParser } from './common/http/json-body';
import { sendProblem, toProblem } from './common/http/problem.filter';
import { AppConfig } from './config/app-config';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { ApiKeysService } from './modules/api-keys/api-keys.service';
import { registerConsoleStatic } from './modules/console';
import { MetricsService } from './modules/observability/metrics.service';
import { applyResponseSchemas } from './openapi';

export interface RunningApp {
  app: NestFastifyApplication;
  /** The database the app uses (embedded server URL or DATABASE_URL). */
  databaseUrl: string;
  /** An admin key generated at first start (print it once), else null. */
  generatedAdminKey: string | null;
  /** Stop accepting, finish in-flight requests, close the database (and the embedded server). */
  close(): Promise<void>;
}

const NEST_LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  silent: [],
};

/** Build the API: database (embedded unless DATABASE_URL), migrations, Fastify, OpenAPI, metrics. */
export async function createApp(config: AppConfig): Promise<RunningApp> {
  // PGlite is one PostgreSQL session behind pglite-socket: statements from several pooled connections interleave
  // their extended-protocol messages ("portal cannot be run") and cannot run in parallel anyway, so the embedded
  // database gets a pool of one connection; a server gets DB_POOL_SIZE.
  const embedded = config.databaseUrl ? null : new EmbeddedPostgres(config.dataDir, 4);
  const databaseUrl = config.databaseUrl ?? (await embedded!.start());
  const poolSize = embedded ? 1 : config.dbPoolSize;
  let app: NestFastifyApplication | undefined;
  try {
    const adapter = new FastifyAdapter({
      logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
      bodyLimit: config.bodyLimitBytes,
      requestIdHeader: 'x-request-id',
      genReqId: () => randomUUID(),
      // Per-request log lines only at debug/trace: at serving rates they would cost more than the request.
      logController: new LogController({
        disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
      }),
      return503OnClosing: true,
      trustProxy: config.trustProxy, // request.ip behind the configured reverse proxies (sign-in throttling is per client)
      // Item ids have up to 256 characters, three times that percent-encoded; longer ones are a problem+json 414.
      routerOptions: { maxParamLength: 1024 },
      // Malformed URLs and over-long path parameters are refused by the router before any route: problem+json too.
      frameworkErrors: (err: Error, request: FastifyRequest, reply: FastifyReply) =>
        sendProblem(reply, toProblem(err, String(request.id))),
    });
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl, poolSize), adapter, {
      logger: new ConsoleLogger({ json: true, logLevels: NEST_LEVELS[config.logLevel] }),
      abortOnError: false,
      bodyParser: false, // registerJsonBodyParser below is the one JSON parser
    });
    if (config.corsOrigins.length) app.enableCors({ origin: config.corsOrigins, credentials: true }); // listed origins only (config refuses *)

    const fastify = app.getHttpAdapter().getInstance();
    // Security headers (CSP, nosniff, frame-ancestors / X-Frame-Options, Referrer-Policy) on every response: before
    // any route is registered (app.init below), so errors, 404s, the console, /docs and report.html all carry them.
    await registerSecurityHeaders(fastify);

    fastify.removeContentTypeParser('text/plain'); // the API speaks JSON only: anything else is a 415
    registerJsonBodyParser(fastify, config.bodyLimitBytes); // NUL, lone surrogates, deep nesting: 400 before any handler
    const metrics = app.get(MetricsService);
    fastify.addHook('onSend', async (request, reply, payload) => {
      reply.header('x-request-id', request.id);
      return payload;
    });
    fastify.addHook('onResponse', async (request, reply) => {
      metrics.observe(
        request.method,
        request.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });
    // Errors raised before a Nest handler runs (body parsing, size limit) and unknown routes reach Nest's own
    // Fastify error and not-found handlers, which pass them to the ProblemFilter: problem+json everywhere.

    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Slotwise API')
        .setDescription(
          'Ranked slots with contextual Thompson sampling, A/B experiments and their statistics. Errors are application/problem+json.',
        )
        .setVersion(config.version)
        .addBearerAuth()
        .build(),
    );
    applyResponseSchemas(document); // response schemas from libs/contracts
    // The schemas are zod's JSON Schema 2020-12 (type arrays for null, numeric exclusiveMinimum, const): OpenAPI 3.1's
    // dialect, not 3.0's, which Nest's builder declares.
    document.openapi = '3.1.0';
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

    registerConsoleStatic(fastify); // the console SPA at / (dist/console), outside /v1

    // No enableShutdownHooks(): main.ts handles signals, so the embedded database closes after the app.
    await app.init();
    await fastify.ready();
    const generatedAdminKey = await app.get(ApiKeysService).initialize();

    let closed: Promise<void> | undefined;
    const running: RunningApp = {
      app,
      databaseUrl,
      generatedAdminKey,
      close: () =>
        (closed ??= (async () => {
          await app!.close();
          await embedded?.stop();
        })()),
    };
    return running;
  } catch (err) {
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
}
