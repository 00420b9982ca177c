// Runs the storage contract (storage-contract.test-support.ts) against
// MemoryStorage, the reference implementation.
import { MemoryStorage } from './memory-storage.ts';
import { storageContract } from './storage-contract.test-support.ts';

storageContract('MemoryStorage', () => new MemoryStorage());
