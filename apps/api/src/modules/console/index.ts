import { ConsoleAuthService } from './console-auth.service';
import { ConsoleUsersRepository } from './console-users.repository';
import { ConsoleController } from './console.controller';

export { registerConsoleStatic } from './console-static';
export { ConsoleAuthService } from './console-auth.service';
export { CSRF_HEADER, sessionTokenOf } from './session-cookie';

/** Wired into AppModule. */
export const CONSOLE_CONTROLLERS = [ConsoleController];
export const CONSOLE_PROVIDERS = [ConsoleUsersRepository, ConsoleAuthService];
