import { OpeController } from './ope.controller';
import { OpeRepository } from './ope.repository';
import { OpeService } from './ope.service';
import { ShadowService } from './shadow.service';

/** Off-policy evaluation: imported decisions, OPE runs (libs/ope on the decision log). */
export const OPE_CONTROLLERS = [OpeController];
export const OPE_PROVIDERS = [OpeRepository, OpeService, ShadowService];
