import { TriggerEvaluator } from './trigger-evaluator';
import { TriggersController } from './triggers.controller';
import { TriggersRepository } from './triggers.repository';
import { TriggersService } from './triggers.service';

/** Behavioural triggers (issue 18 part 3): definitions, edge evaluation on feature updates, `trigger.fired` deliveries. */
export const TRIGGER_CONTROLLERS = [TriggersController];
export const TRIGGER_PROVIDERS = [TriggersRepository, TriggerEvaluator, TriggersService];
