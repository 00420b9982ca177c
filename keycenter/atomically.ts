// Runs a read-then-write rule in a transaction, and again when a unique
// constraint shows that another writer changed what the rule read (possible
// under PostgreSQL's READ COMMITTED; under SQLite's one writer it never
// happens). On the retry the rule sees the other writer's row and answers
// the code that fits (ALREADY_ACTIVATED, SEATS_EXHAUSTED, …).
import { StoreConflictError, type KeyCenterStore, type StoreQueries } from './store/key-center-store.ts';

/** Attempts of one rule before a lasting conflict is reported. */
export const RULE_ATTEMPTS_MAX = 5;

/** Runs `rule` atomically; retries it (up to RULE_ATTEMPTS_MAX) when a unique constraint refused its write. */
export async function atomically<T>(store: KeyCenterStore, rule: (q: StoreQueries) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction(rule);
    } catch (error) {
      if (!(error instanceof StoreConflictError) || attempt >= RULE_ATTEMPTS_MAX) throw error;
    }
  }
}
