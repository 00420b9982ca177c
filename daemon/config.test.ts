import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from './config.ts';

describe('config', () => {
  it('fills every default and resolves paths against the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
    try {
      writeFileSync(join(dir, 'n1.toml'), 'nodeId = "n7"\ndataDir = "data"\nlicenseFiles = ["a.license"]\n[raft]\nsnapshotEntries = 100\n');
      const c = loadConfigFile(join(dir, 'n1.toml'));
      expect(c).toMatchObject({ nodeId: 'n7', dataDir: join(dir, 'data'), licenseFiles: [join(dir, 'a.license')], leaseTtlMs: 30_000, heartbeatMs: 10_000 });
      expect(c.raft).toMatchObject({ snapshotEntries: 100, tickMs: 25, syncMode: 'async' });
      expect(c.limits.connectionsMax).toBe(16_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unknown options and a heartbeat not below the lease ttl, naming the field', () => {
    expect(() => parseConfig({ leaseTTL: 5 })).toThrow(ConfigError);
    expect(() => parseConfig({ leaseTtlMs: 5000, heartbeatMs: 5000 })).toThrow(/heartbeatMs/);
  });

  it('the example config in deploy/ is valid and states the defaults', () => {
    const text = readFileSync(join(import.meta.dirname, '..', 'deploy', 'floe.example.toml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'floe-config-'));
    try {
      writeFileSync(join(dir, 'x.toml'), text);
      const c = loadConfigFile(join(dir, 'x.toml'));
      const d = parseConfig({});
      expect({ ...c, dataDir: '', clientListen: '' }).toEqual({ ...d, dataDir: '', clientListen: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the systemd unit in deploy/ keeps the data dir private: UMask=0077 and StateDirectoryMode=0700', () => {
    const unit = readFileSync(join(import.meta.dirname, '..', 'deploy', 'floe.service'), 'utf8');
    expect(unit).toMatch(/^UMask=0077$/m);
    expect(unit).toMatch(/^StateDirectoryMode=0700$/m);
  });

  it('the three-server site in deploy/cluster/ is valid: same peers everywhere, each node listed', () => {
    const peers = ['n1', 'n2', 'n3'].map((id) => {
      const c = loadConfigFile(join(import.meta.dirname, '..', 'deploy', 'cluster', `${id}.toml`));
      expect(c.nodeId).toBe(id);
      expect(c.clientUrls).toEqual(c.cluster.peers.map((p) => p.clientUrl));
      return JSON.stringify(c.cluster.peers);
    });
    expect(new Set(peers).size).toBe(1);
  });

  it('refuses a peers list that does not list this node or lists one twice', () => {
    const peer = (id: string) => ({ id, peerUrl: `ws://127.0.0.1:1/raft`, clientUrl: 'ws://127.0.0.1:2/ws', publicKey: 'A'.repeat(43) });
    expect(() => parseConfig({ nodeId: 'n1', cluster: { peers: [peer('n2'), peer('n3')] } })).toThrow(/cluster\.peers/);
    expect(() => parseConfig({ nodeId: 'n1', cluster: { peers: [peer('n1'), peer('n1')] } })).toThrow(/twice/);
    expect(() => parseConfig({ nodeId: 'n1', cluster: { peers: [{ ...peer('n1'), publicKey: 'short' }] } })).toThrow(/publicKey/);
  });
  it('refuses a non-loopback bind without TLS, saying how to fix it, unless insecure = true', () => {
    expect(() => parseConfig({ clientListen: '0.0.0.0:7401' })).toThrow(/CONFIG_INVALID: clientListen: 0\.0\.0\.0:7401 is not a loopback address.*tls\.certFile.*insecure = true/);
    expect(() => parseConfig({ adminListen: '10.0.0.1:7501' })).toThrow(/adminListen: 10\.0\.0\.1:7501 is not a loopback address/);
    expect(parseConfig({ clientListen: '0.0.0.0:7401', insecure: true }).insecure).toBe(true);
    expect(parseConfig({ clientListen: '0.0.0.0:7401', tls: { certFile: 'n1.crt', keyFile: 'n1.key' } }, '/etc/floe').tls).toEqual({ certFile: '/etc/floe/n1.crt', keyFile: '/etc/floe/n1.key' });
    expect(parseConfig({ clientListen: '127.0.0.2:7401', adminListen: 'localhost:7501' }).insecure).toBe(false);
  });

  it('refuses a TLS cluster without a CA or with a plain ws:// peer URL', () => {
    const peer = (id: string, scheme: string) => ({ id, peerUrl: `${scheme}://127.0.0.1:1/raft`, clientUrl: 'wss://127.0.0.1:2/ws', publicKey: 'A'.repeat(43) });
    const tls = { certFile: 'n1.crt', keyFile: 'n1.key', caFile: 'ca.crt' };
    expect(() => parseConfig({ tls: { certFile: 'n1.crt', keyFile: 'n1.key' }, cluster: { peers: [peer('n1', 'wss')] } })).toThrow(/tls\.caFile: a cluster over TLS needs tls\.caFile/);
    expect(() => parseConfig({ tls, cluster: { peers: [peer('n1', 'wss'), peer('n2', 'ws')] } })).toThrow(/cluster\.peers\.1\.peerUrl: ws:\/\/127\.0\.0\.1:1\/raft must be wss:\/\//);
    expect(() => parseConfig({ tls: { certFile: 'n1.crt' } })).toThrow(/tls\.certFile and tls\.keyFile go together/);
    expect(parseConfig({ tls, cluster: { peers: [peer('n1', 'wss'), peer('n2', 'wss')] } }).cluster.peers).toHaveLength(2);
  });
});
