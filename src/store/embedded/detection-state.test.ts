import { detectionStateContract } from '../contract/detection-state.contract.js';
import { openSqliteDetectionState } from './detection-state.js';

detectionStateContract('SQLite', async () => openSqliteDetectionState({ path: ':memory:' }));
