import { describe, expect, it } from 'vitest';
import { licenseFeatures, licensePayloadSchema, type LicensePayload } from './license-payload.ts';

const base: LicensePayload = {
  v: 1,
  licenseId: 'L1',
  authCode: 'A1',
  vendorKeyId: 'K1',
  product: 'cad',
  version: '29',
  model: 'concurrent',
  seats: 5,
  components: [],
  issuedAt: 1_000,
  notBefore: 1_000,
  lockCodes: ['X'],
  lingerSeconds: 0,
  hostsPerUserMax: 1,
};

describe('license payload', () => {
  it('a plain key grants its product as one pool', () => {
    expect(licenseFeatures(base)).toEqual(['cad']);
  });
  it('a bundle key grants each of its components as a pool', () => {
    expect(licenseFeatures({ ...base, product: 'suite', components: ['cad', 'cam'] })).toEqual(['cad', 'cam']);
  });
  it('refuses two lock codes: a key names one, three or five servers', () => {
    expect(licensePayloadSchema.safeParse({ ...base, lockCodes: ['X', 'Y'] }).success).toBe(false);
  });
  it('refuses a redundant key that names the same server twice', () => {
    expect(licensePayloadSchema.safeParse({ ...base, lockCodes: ['X', 'Y', 'X'] }).success).toBe(false);
  });
  it('refuses a key that names itself as the one it supersedes', () => {
    expect(licensePayloadSchema.safeParse({ ...base, supersedes: 'L1' }).success).toBe(false);
    expect(licensePayloadSchema.safeParse({ ...base, supersedes: 'L0' }).success).toBe(true);
  });
  it('refuses an end date before the start date', () => {
    expect(licensePayloadSchema.safeParse({ ...base, expiresAt: 500 }).success).toBe(false);
  });
});
