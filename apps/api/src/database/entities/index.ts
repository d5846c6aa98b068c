import { ApiKeyEntity } from './api-key.entity';
import { AuditEntryEntity } from './audit-entry.entity';
import { ExperimentEntity } from './experiment.entity';
import { ItemEntity } from './item.entity';
import { SettingEntity } from './setting.entity';
import { VariantEntity } from './variant.entity';

export { ApiKeyEntity, AuditEntryEntity, ExperimentEntity, ItemEntity, SettingEntity, VariantEntity };
export const ENTITIES = [ApiKeyEntity, AuditEntryEntity, ExperimentEntity, ItemEntity, SettingEntity, VariantEntity];
