// How the simulator's trace spells messages, entries, Readys, disks and the
// cluster: one line each, terse enough that a run of thousands of events can be read and
// diffed. The trace's hash (SimOptions.hashTrace) is taken over these
// lines, so a change here changes every seed's trace hash.
import { NONE, type Entry, type Message, type Ready } from '../../daemon/raft/index.ts';
import type { SimNode } from './sim-node.ts';
import { unreachable } from './unreachable.ts';

/** One message as a trace line shows it. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} i${m.index}/t${m.logTerm} c${m.commit} [${describeEntries(m.entries)}]`;
    case 'app-resp':
      return `${head} i${m.index}${m.reject ? ` REJECT hint ${m.rejectHint}/t${m.logTerm}` : ''}`;
    case 'vote':
    case 'pre-vote':
      return `${head} i${m.index}/t${m.logTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-resp':
    case 'pre-vote-resp':
      return `${head}${m.reject ? ' REJECT' : ' grant'}`;
    case 'heartbeat':
      return `${head} c${m.commit}/t${m.commitTerm}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'heartbeat-resp':
      return `${head}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'snap':
      return `${head} @${m.snapshot.metadata.index}/t${m.snapshot.metadata.term} voters [${m.snapshot.metadata.confState.voters.join(',')}]`;
    case 'timeout-now':
      return head;
    case 'rejoin':
    case 'rejoin-resp':
      return `${head} i${m.index}/t${m.logTerm}`;
    case 'read-index':
      return `${head} ctx ${m.context}`;
    case 'read-index-resp':
      return `${head} ctx ${m.context} i${m.index}`;
    case 'transfer-leader':
      return `${head} target ${m.target}`;
    default:
      return unreachable(m);
  }
}

/** Up to four entries as a trace line shows them (index/term, cc for a conf change, data). */
export function describeEntries(entries: readonly Entry[]): string {
  if (entries.length === 0) return '';
  const d = new TextDecoder();
  const shown = entries.slice(0, 4).map((e) => `${e.index}/t${e.term}${e.type === 'conf-change' ? 'cc' : ''}:${d.decode(e.data)}`);
  return entries.length > 4 ? `${shown.join(' ')} …${entries[entries.length - 1]!.index}` : shown.join(' ');
}

/** A node's disk as a trace line shows it: hard state, snapshot index, log range. */
export function describeDisk(n: SimNode): string {
  const hs = n.disk.initialState().hardState;
  return `term ${hs.term} vote ${hs.vote || NONE || '-'} commit ${hs.commit} snap@${n.disk.snapshot().metadata.index} log ${n.disk.firstIndex()}..${n.disk.lastIndex()}`;
}

/** What a Ready persists and applies, as a trace line shows it; '' when it holds none of that. */
export function describeReady(rd: Ready): string {
  const hs = rd.hardState;
  const parts: string[] = [];
  if (hs !== undefined) parts.push(`hs{term ${hs.term} vote ${hs.vote || '-'} commit ${hs.commit}}`);
  if (rd.snapshot !== undefined) parts.push(`snap@${rd.snapshot.metadata.index}/t${rd.snapshot.metadata.term}`);
  if (rd.entries.length > 0) parts.push(`entries ${describeEntries(rd.entries)}`);
  if (rd.committedEntries.length > 0) parts.push(`apply ${rd.committedEntries[0]!.index}..${rd.committedEntries[rd.committedEntries.length - 1]!.index}`);
  return parts.join(' ');
}

/** Every node that ever started, as a violation's message shows it: down, removed, or its role, term, leader and indexes. */
export function describeCluster(nodes: readonly SimNode[]): string {
  return nodes
    .filter((n) => n.incarnation > 0)
    .map((n) => {
      if (n.removed) return `${n.id}: removed`;
      if (!n.up) return `${n.id}: down`;
      const s = n.status();
      return `${n.id}: ${s.role} t${s.term} lead ${s.leaderId || '-'} commit ${s.commit} applied ${n.appliedIndex} last ${s.lastIndex} voters [${s.confState.voters.join(',')}]`;
    })
    .join('; ');
}
