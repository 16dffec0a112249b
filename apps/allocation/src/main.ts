import { runServiceProcess } from '@inventory/runtime';
import { startAllocationService } from './allocation-service';
import { loadConfig } from './config';

runServiceProcess('allocation', loadConfig, (config, logger) => startAllocationService(config, logger));
