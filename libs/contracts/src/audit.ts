// The audit app's contracts (package audit.v1), exported from the index as `auditV1`.
export * from './gen/audit/v1/audit_service';
export * from './gen/audit/v1/audit_admin_service';
export * from './gen/audit/v1/cycle_count_service';
export * from './gen/audit/v1/compliance_service';
