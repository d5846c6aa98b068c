import { errorMessage } from './api';

/** A confirmed action: busy while it runs, the dialog closed afterwards either way, the list reloaded on success. */
export async function runConfirmed(
  call: () => Promise<unknown>,
  ui: { close: () => void; reload: () => void; setBusy: (busy: boolean) => void; setError: (message: string) => void },
): Promise<void> {
  ui.setBusy(true);
  try {
    await call();
    ui.close();
    ui.reload();
  } catch (err) {
    ui.setError(errorMessage(err));
    ui.close();
  } finally {
    ui.setBusy(false);
  }
}
