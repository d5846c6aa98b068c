import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { ProblemFilter } from './common/http/problem.filter';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { ClusterBus } from './database/cluster-bus';
import { EmbeddedVacuumWorker } from './database/embedded-vacuum.worker';
import { MaintenanceRepository } from './database/maintenance.repository';
import { dataSourceOptions } from './database/data-source';
import { AB_CONTROLLERS, AB_PROVIDERS } from './modules/ab';
import { ApiKeysController } from './modules/api-keys/api-keys.controller';
import { ApiKeysRepository } from './modules/api-keys/api-keys.repository';
import { ApiKeysService } from './modules/api-keys/api-keys.service';
import { AuditController } from './modules/audit/audit.controller';
import { AuditRepository } from './modules/audit/audit.repository';
import { AuditService } from './modules/audit/audit.service';
import { CONSOLE_CONTROLLERS, CONSOLE_PROVIDERS } from './modules/console';
import { FEATURE_CONTROLLERS, FEATURE_PROVIDERS } from './modules/features';
import { DemoService } from './modules/demo/demo.service';
import { ExperimentEvents } from './modules/experiments/experiment-events';
import { ExperimentsController } from './modules/experiments/experiments.controller';
import { ExperimentsRepository } from './modules/experiments/experiments.repository';
import { ExperimentsService } from './modules/experiments/experiments.service';
import { ItemEvents } from './modules/items/item-events';
import { ItemsController } from './modules/items/items.controller';
import { ItemsRepository } from './modules/items/items.repository';
import { ItemsService } from './modules/items/items.service';
import { HealthService } from './modules/observability/health.service';
import { MetricsService } from './modules/observability/metrics.service';
import { ObservabilityController } from './modules/observability/observability.controller';
import { RANK_CONTROLLERS, RANK_PROVIDERS } from './modules/rank';
import { AUTOMATION_PROVIDERS } from './modules/automation';
import { WEBHOOK_CONTROLLERS, WEBHOOK_PROVIDERS } from './modules/webhooks';
import { TRIGGER_CONTROLLERS, TRIGGER_PROVIDERS } from './modules/triggers';
import { OPE_CONTROLLERS, OPE_PROVIDERS } from './modules/ope';

@Module({})
export class AppModule {
  /** The whole API wired to one database URL (the embedded server's or DATABASE_URL). Migrations run at start. */
  static forRoot(config: AppConfig, databaseUrl: string, poolSize = config.dbPoolSize): DynamicModule {
    return {
      module: AppModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, poolSize), migrationsRun: true })],
      controllers: [
        ObservabilityController,
        ApiKeysController,
        AuditController,
        ExperimentsController,
        ItemsController,
        ...CONSOLE_CONTROLLERS,
        ...RANK_CONTROLLERS,
        ...AB_CONTROLLERS,
        ...FEATURE_CONTROLLERS,
        ...WEBHOOK_CONTROLLERS,
        ...OPE_CONTROLLERS,
        ...TRIGGER_CONTROLLERS,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        ClusterBus,
        MaintenanceRepository,
        EmbeddedVacuumWorker,
        MetricsService,
        HealthService,
        AuditRepository,
        AuditService,
        ApiKeysRepository,
        ApiKeysService,
        ExperimentEvents,
        ExperimentsRepository,
        ExperimentsService,
        ItemEvents,
        ItemsRepository,
        ItemsService,
        ...CONSOLE_PROVIDERS,
        ...RANK_PROVIDERS,
        ...AB_PROVIDERS,
        ...FEATURE_PROVIDERS,
        ...WEBHOOK_PROVIDERS,
        ...AUTOMATION_PROVIDERS,
        ...TRIGGER_PROVIDERS,
        ...OPE_PROVIDERS,
        DemoService,
      ],
    };
  }
}
