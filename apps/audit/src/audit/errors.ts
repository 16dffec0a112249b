import { DomainError } from '@inventory/domain';

/** Thrown when no stored record has the action id asked for: it may not exist, or not be consumed yet. */
export class AuditActionNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'AUDIT_ACTION_NOT_FOUND';

  constructor(readonly actionId: string) {
    super(`no audit record has action id ${actionId}`);
  }

  override get metadata(): Record<string, string> {
    return { action_id: this.actionId };
  }
}
