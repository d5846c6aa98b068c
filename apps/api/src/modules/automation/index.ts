import { AutomationRepository } from './automation.repository';
import { AutomationScheduler } from './automation.scheduler';

export { AutomationScheduler } from './automation.scheduler';

/** Scheduled evaluation of running experiments: announced findings and the autoStop option; wired into AppModule. */
export const AUTOMATION_PROVIDERS = [AutomationRepository, AutomationScheduler];
