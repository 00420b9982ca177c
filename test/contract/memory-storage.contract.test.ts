// Runs the storage contract against MemoryStorage. It lives here rather than
// beside memory-storage.ts because the layer rules forbid daemon/ (tests
// included) from importing test/.
import { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import { storageContract } from './storage-contract.ts';

storageContract('MemoryStorage', () => new MemoryStorage());
