// Fuzz target: the text of a node's TOML config file (`floe serve --config`).
// Covers text that is not TOML, a full three-member config with one field
// changed to a hostile TOML value (inf, nan, integers past 2^63, dates where
// strings go, deep nesting), and deep nesting on its own.
import fc from 'fast-check';
import { stringify as stringifyToml } from 'smol-toml';
import { checkConfigText } from '../../../daemon/config.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { applyMutation, fieldName, isErrorCode, mutation, randomText, TRICKY_STRINGS } from '../hostile-values.ts';

const KEY = 'A'.repeat(43);
const VALID_CONFIG = {
  nodeId: 'n1',
  dataDir: '/var/lib/floe',
  clientListen: '0.0.0.0:7401',
  adminListen: '127.0.0.1:7501',
  vendorPublicKeys: ['ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  licenseFiles: ['/etc/floe/site.license'],
  adminTokenSha256: ['0'.repeat(64)],
  leaseTtlMs: 30_000,
  heartbeatMs: 10_000,
  limits: { connectionsMax: 1000, adminBodyBytesMax: 65_536 },
  raft: { tickMs: 25, electionTicks: 8, heartbeatTicks: 2, syncMode: 'async' },
  tls: { certFile: '/etc/floe/tls/n1.crt', keyFile: '/etc/floe/tls/n1.key', caFile: '/etc/floe/tls/ca.crt' },
  cluster: {
    peerListen: '10.0.0.1:7601',
    peers: ['n1', 'n2', 'n3'].map((id, i) => ({ id, peerUrl: `wss://10.0.0.${i + 1}:7601/raft`, clientUrl: `wss://10.0.0.${i + 1}:7401/ws`, publicKey: KEY })),
  },
};

/** Levels of TOML nesting generated: smol-toml refuses nesting past its own limit, which is the point. */
const TOML_NESTING_LEVELS_MAX = 20_000;

/** TOML value texts that break careless validation. */
const tomlValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'inf',
    '-inf',
    'nan',
    '1e400',
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775809',
    '0x7fffffffffffffff',
    '0o777',
    '0b101',
    '1_000',
    '-0',
    '0.0',
    '5e-324',
    'true',
    '1979-05-27T07:32:00Z',
    '1979-05-27',
    '07:32:00',
    '[]',
    '{}',
    '[1, "a", true]',
    '{ a = 1 }',
    '"""\nmulti\nline"""',
    "'literal'",
  ),
  fc.constantFrom(...TRICKY_STRINGS).map((s) => JSON.stringify(s)),
  fc.integer({ min: -10, max: 2_000_000 }).map(String),
  fc.double().map((d) => (Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d))),
  fc
    .record({ levels: fc.integer({ min: 10, max: TOML_NESTING_LEVELS_MAX }), table: fc.boolean() })
    .map(({ levels, table }) => (table ? `${'{ a = '.repeat(levels)}1${' }'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`)),
);

/** A key TOML can write (a lone surrogate cannot be UTF-8, so no TOML file holds one). */
const tomlKey: fc.Arbitrary<string> = fieldName.filter((k) => !/[\ud800-\udfff]/.test(k) || /^(?:[\ud800-\udbff][\udc00-\udfff]|[^\ud800-\udfff])*$/.test(k));

export const configText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: mutation(VALID_CONFIG, tomlValue, tomlKey).map((m) => applyMutation(VALID_CONFIG, m, (doc) => stringifyToml(doc as Record<string, unknown>), (s) => stringifyToml({ x: s }).slice(4).trim())) },
  { weight: 2, arbitrary: randomText },
  { weight: 1, arbitrary: tomlValue.map((v) => `nodeId = ${v}\n`) },
  { weight: 1, arbitrary: fc.constantFrom('[cluster]\n[cluster]\n', 'a.b.c = 1\na = 2\n', '[[cluster.peers]]\n', '__proto__ = 1\n', 'constructor.prototype = 1\n') },
);

/** Config files: checkConfigText() answers a config or CONFIG_INVALID with a sentence. */
export const configFilesTarget: FuzzTarget = {
  name: 'config-files',
  claim: 'a config file of any content answers a config or CONFIG_INVALID, and never throws',
  runsInTest: 300,
  open: async () => ({
    property: fc.property(configText, (text) => {
      const checked = checkConfigText(text, '/etc/floe', 'fuzz.toml');
      if (checked.ok) {
        if (typeof checked.config.nodeId !== 'string' || !Number.isSafeInteger(checked.config.leaseTtlMs)) throw new Error('accepted a config with bad fields');
        return;
      }
      if (checked.code !== 'CONFIG_INVALID' || !isErrorCode(checked.code)) throw new Error(`answered code ${String(checked.code)}`);
      if (typeof checked.message !== 'string') throw new Error('answered no message');
    }),
    close: async () => {},
  }),
};
