// Layer boundaries of ../shared/DESIGN.md, checked by `npm test`.
// Each folder imports only the layers below it; the pure cores import nothing
// with side effects (no node:*, no sockets, no SQLite).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-is-the-bottom-layer',
      comment: 'protocol/ is shared by everyone and imports no other layer.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: '^(daemon|admin|client|keycenter|cli|test|bench)/' },
    },
    {
      name: 'pool-is-pure',
      comment: 'daemon/pool/ is a pure state machine: only protocol/ and itself, no Node APIs or packages with side effects.',
      severity: 'error',
      from: { path: '^daemon/pool/', pathNot: '\\.test(-support)?\\.ts$' },
      to: {
        pathNot: '^(daemon/pool/|protocol/|node_modules/zod/)',
      },
    },
    {
      name: 'admin-state-is-pure',
      comment: 'daemon/admin-state/ (tokens, audit log) is a pure state machine like the pool, its sibling: it imports nothing but itself.',
      severity: 'error',
      from: { path: '^daemon/admin-state/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { pathNot: '^daemon/admin-state/' },
    },
    {
      name: 'raft-is-pure',
      comment: 'daemon/raft/ is a pure consensus core: it imports nothing but itself (its tests and test support may use test helpers).',
      severity: 'error',
      from: { path: '^daemon/raft/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { pathNot: '^daemon/raft/' },
    },
    {
      name: 'daemon-below-admin-client-keycenter-cli',
      comment: 'The daemon never imports the layers above it; its tests and test support may use test/ helpers.',
      severity: 'error',
      from: { path: '^daemon/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { path: '^(admin|client|keycenter|cli|test|bench)/' },
    },
    {
      name: 'admin-only-over-daemon-and-protocol',
      severity: 'error',
      from: { path: '^admin/' },
      to: { path: '^(client|keycenter|cli|test|bench)/' },
    },
    {
      name: 'client-speaks-only-protocol',
      comment: 'The SDK applications embed must not pull in server code.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(daemon|admin|keycenter|cli|test|bench)/' },
    },
    {
      name: 'keycenter-only-over-protocol',
      comment: 'Its tests and their support may use test/ helpers, as the daemon\'s do (the PostgreSQL test server waits with test/wait-until.test-support.ts); production-code-never-imports-tests still keeps them out of what ships.',
      severity: 'error',
      from: { path: '^keycenter/', pathNot: '\\.test(-support)?\\.ts$' },
      to: { path: '^(daemon|admin|client|cli|test|bench)/' },
    },
    {
      name: 'production-code-never-imports-tests',
      comment: 'Tests (*.test.ts), their support files (*.test-support.ts, beside what they support), test/ (simulator, fuzz targets, scripts) and bench/ stay out of what ships: only they may import each other. The source side is everything else, so a new folder that lint:layers cruises is covered without editing this rule.',
      severity: 'error',
      from: { pathNot: '(^test/|^bench/|\\.test(-support)?\\.ts$)' },
      to: { path: '(^test/|^bench/|\\.test(-support)?\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
