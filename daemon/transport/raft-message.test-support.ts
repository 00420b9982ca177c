// fast-check arbitraries of Raft messages as they travel between peers: every
// kind, with node ids, terms and indexes up to Number.MAX_SAFE_INTEGER and
// append messages that carry a well-formed log segment. Used by the codec's
// tests and by the peer-frame fuzz target (test/fuzz/).
import fc from 'fast-check';
import type { Entry, Message } from '../raft/types.ts';

const nodeId = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => new TextEncoder().encode(s).length <= 64);
const uint = fc.oneof(fc.nat({ max: 1000 }), fc.nat(), fc.maxSafeNat());
const context = fc.string({ unit: 'grapheme', maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 });
const entry: fc.Arbitrary<Entry> = fc.record({
  term: uint,
  index: uint,
  type: fc.constantFrom('normal' as const, 'conf-change' as const),
  data: bytes,
});

/** Any Raft message the codec must carry. */
export const raftMessage: fc.Arbitrary<Message> = fc
  .record({ from: nodeId, to: nodeId, term: uint })
  .chain((base): fc.Arbitrary<Message> =>
    fc.oneof(
      fc
        .record({ index: fc.nat(), logTermAt: fc.nat(), commit: uint, entries: fc.array(fc.record({ termStep: fc.nat({ max: 3 }), type: entry.map((e) => e.type), data: bytes }), { maxLength: 8 }) })
        .map((b) => {
          // A well-formed log segment: consecutive indexes, terms non-decreasing from logTerm up to the message's term.
          const termSteps = b.entries.reduce((n, e) => n + e.termStep, 0);
          const logTerm = Math.max(0, Math.min(b.logTermAt, base.term - termSteps));
          let t = logTerm;
          const entries = b.entries.map((e, i) => ({ term: (t += e.termStep), index: b.index + 1 + i, type: e.type, data: e.data }));
          return { ...base, term: Math.max(base.term, t), type: 'app' as const, index: b.index, logTerm, commit: b.commit, entries };
        }),
      fc.record({ index: uint, reject: fc.boolean(), rejectHint: uint, logTerm: uint }).map((b) => ({ ...base, type: 'app-resp' as const, ...b })),
      fc.record({ type: fc.constantFrom('vote' as const, 'pre-vote' as const), index: uint, logTerm: uint, transfer: fc.boolean() }).map((b) => ({ ...base, ...b })),
      fc.record({ type: fc.constantFrom('vote-resp' as const, 'pre-vote-resp' as const), reject: fc.boolean() }).map((b) => ({ ...base, ...b })),
      fc.record({ commit: uint, commitTerm: uint, context }).map((b) => ({ ...base, type: 'heartbeat' as const, ...b })),
      fc.record({ type: fc.constantFrom('heartbeat-resp' as const, 'read-index' as const), context }).map((b) => ({ ...base, ...b })),
      fc
        .record({ index: uint, term: uint, voters: fc.array(nodeId, { maxLength: 5 }), learners: fc.array(nodeId, { maxLength: 3 }), data: bytes })
        .map((s) => ({
          ...base,
          type: 'snap' as const,
          snapshot: { metadata: { index: s.index, term: s.term, confState: { voters: s.voters, learners: s.learners } }, data: s.data },
        })),
      fc.constant({ ...base, type: 'timeout-now' as const }),
      fc.record({ type: fc.constantFrom('rejoin' as const, 'rejoin-resp' as const), index: uint, logTerm: uint }).map((b) => ({ ...base, ...b })),
      fc.record({ context, index: uint }).map((b) => ({ ...base, type: 'read-index-resp' as const, ...b })),
      fc.record({ target: fc.oneof(nodeId, fc.constant('')) }).map((b) => ({ ...base, type: 'transfer-leader' as const, ...b })),
    ),
  );
