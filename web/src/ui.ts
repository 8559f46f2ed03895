// Shared bits of the page: the notice line, the connection indicator, and one modal dialog.
import { $, h, show } from './dom.ts';

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

/** A short message in the alert line (read out by screen readers), gone after a while. */
export function notice(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = $('notice');
  el.textContent = text;
  el.dataset.kind = kind;
  show(el, true);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show(el, false), 8000);
}

export function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) return String((error as Error).message);
  return String(error);
}

export type ConnectionState = 'offline' | 'connecting' | 'online' | 'reconnecting';
const connectionText: Record<ConnectionState, string> = {
  offline: 'Not connected',
  connecting: 'Connecting…',
  online: 'Connected',
  reconnecting: 'Reconnecting…',
};

export function setConnection(state: ConnectionState): void {
  const el = $('connection');
  if (el.dataset.state === state) return;
  el.dataset.state = state;
  el.textContent = connectionText[state];
}

/**
 * Shows the dialog with `body` and resolves true on OK (after `onOk` succeeded, if given: its error is
 * shown in the dialog and it stays open), false on Cancel or Escape.
 */
export function dialog(title: string, body: Node[], opts: { ok?: string; cancel?: string | false; onOk?: () => Promise<void> } = {}): Promise<boolean> {
  const el = $<HTMLDialogElement>('dialog');
  const form = $<HTMLFormElement>('dialog-form');
  const ok = $<HTMLButtonElement>('dialog-ok');
  const cancel = $<HTMLButtonElement>('dialog-cancel');
  $('dialog-title').textContent = title;
  const error = h('p', { class: 'dialog-error', role: 'alert' });
  $('dialog-body').replaceChildren(...body, error);
  ok.textContent = opts.ok ?? 'OK';
  cancel.textContent = opts.cancel || 'Cancel';
  show(cancel, opts.cancel !== false);
  return new Promise((resolve) => {
    const done = (result: boolean) => {
      form.onsubmit = null;
      cancel.onclick = null;
      el.onclose = null;
      if (el.open) el.close();
      resolve(result);
    };
    form.onsubmit = async (event) => {
      event.preventDefault();
      ok.disabled = true;
      try {
        await opts.onOk?.();
        done(true);
      } catch (e) {
        error.textContent = errorText(e);
      } finally {
        ok.disabled = false;
      }
    };
    cancel.onclick = () => done(false);
    el.onclose = () => done(false);
    el.showModal();
  });
}
