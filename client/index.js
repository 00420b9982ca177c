// The `floe/client` entry for plain JavaScript and Node.js (package.json
// "exports"): the SDK's sources are TypeScript with no build step, so this
// loads client/index.ts through tsx's scoped loader — it affects only these
// modules, never the application's own imports — and re-exports the SDK.
// TypeScript projects get the types from client/index.ts ("types").
// client/index-js.test.ts checks that every runtime export of index.ts is here.
import { tsImport } from 'tsx/esm/api';

const sdk = await tsImport('./index.ts', { parentURL: import.meta.url, tsconfig: new URL('../tsconfig.json', import.meta.url).pathname });

export const {
  backoffDelayMs,
  HEARTBEAT_MS_MAX,
  HEARTBEAT_MS_MIN,
  FRAME_BYTES_RECEIVED_MAX,
  clientErrorCodes,
  FloeError,
  isFloeError,
  connect,
  FloeClient,
  checkBorrowedSeat,
  FINGERPRINT_HEX_CHARS,
  machineFingerprint,
} = sdk;
