import { runServiceProcess } from '@inventory/runtime';
import { startAuditService } from './audit-service';
import { loadAuditConfig } from './config';

runServiceProcess('audit', loadAuditConfig, (config, logger) => startAuditService(config, logger));
