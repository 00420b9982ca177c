// Scripted transcripts (testdata/*.txt), in the manner of etcd's testdata:
// each file replays one whole interaction over a TestNetwork and states what
// must hold along the way. One command per line; '#' starts a comment; the
// first comment line names the test.
//
//   cluster n1 n2 n3 [learners=n4] [prevote] [checkquorum]
//   campaign n1 | tick n1 10 | tick * 10 | propose n1 text | read n2 ctx
//   isolate n3 | cut n1 n2 | heal | add n4 (a node with an empty storage)
//   transfer n1 n2 | conf n1 add-voter n4 | compact n1
//   expect n1 role=leader term=2 commit=3 leader=n1 voters=n1,n2 applied=a,b reads=ctx
//   expect-propose n2 NOT_LEADER
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TestNetwork, texts } from './test-network.test-support.ts';
import type { ConfChange } from './types.ts';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));

function run(script: string, file: string): void {
  let net: TestNetwork | undefined;
  const lines = script.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const where = `${file}:${i + 1}: ${line}`;
    const [cmd, ...args] = line.split(/\s+/) as [string, ...string[]];
    if (cmd === 'cluster') {
      const flags = new Set(args.filter((a) => !a.startsWith('n') || a.includes('=')));
      const learners = args.find((a) => a.startsWith('learners='))?.slice('learners='.length).split(',') ?? [];
      net = new TestNetwork(
        args.filter((a) => /^n\d+$/.test(a)),
        { preVote: flags.has('prevote'), checkQuorum: flags.has('checkquorum') },
        learners,
      );
      return;
    }
    if (net === undefined) throw new Error(`${where}: no cluster yet`);
    const n = net;
    switch (cmd) {
      case 'campaign':
        n.campaign(args[0]!);
        break;
      case 'tick':
        n.tick(args[0] === '*' ? undefined : args[0], Number(args[1] ?? 1));
        break;
      case 'propose':
        expect(n.propose(args[0]!, args[1]!).ok, where).toBe(true);
        break;
      case 'expect-propose': {
        const result = n.get(args[0]!).node.propose(new Uint8Array([0]));
        expect(result.ok ? 'OK' : result.reason, where).toBe(args[1]);
        n.settle();
        break;
      }
      case 'read':
        n.get(args[0]!).node.readIndex(args[1]!);
        n.settle();
        break;
      case 'isolate':
        n.isolate(args[0]!);
        break;
      case 'cut':
        n.cutLink(args[0]!, args[1]!);
        break;
      case 'heal':
        n.heal();
        break;
      case 'add':
        n.add(args[0]!, { voters: [], learners: [] });
        break;
      case 'transfer':
        n.get(args[0]!).node.transferLeadership(args[1]!);
        n.settle();
        break;
      case 'conf': {
        const change = { type: args[1], nodeId: args[2] } as ConfChange;
        expect(n.get(args[0]!).node.proposeConfChange(change).ok, where).toBe(true);
        n.settle();
        break;
      }
      case 'compact': {
        const t = n.get(args[0]!);
        const s = t.node.status();
        t.storage.createSnapshot(s.applied, s.confState, new Uint8Array(0));
        t.storage.compact(s.applied);
        break;
      }
      case 'expect': {
        const t = n.get(args[0]!);
        const s = t.node.status();
        for (const claim of args.slice(1)) {
          const [key, want] = claim.split('=') as [string, string];
          const got: Record<string, string> = {
            role: s.role,
            term: String(s.term),
            commit: String(s.commit),
            leader: s.leaderId,
            voters: s.confState.voters.join(','),
            applied: texts(t.applied).join(','),
            reads: t.readStates.map((r) => r.context).join(','),
          };
          expect(got[key], `${where} (${key})`).toBe(want);
        }
        break;
      }
      default:
        throw new Error(`${where}: unknown command`);
    }
  });
}

describe('transcripts', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    const script = readFileSync(dir + file, 'utf8');
    const title = /^#\s*(.*)$/m.exec(script)?.[1] ?? file;
    it(`${file}: ${title}`, () => run(script, file));
  }
});
