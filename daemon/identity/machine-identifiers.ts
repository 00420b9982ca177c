// Reads what identifies this machine, for its nodes' lock codes: the
// systemd/dbus machine-id, the MAC addresses of its physical network
// interfaces and its hostname. Virtual interfaces (docker, veth, bridges,
// tunnels) come and go with containers and VPNs, so they are left out: a
// lock code must not change because a container started.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { MachineIdentifiers } from '../../protocol/index.ts';

/** Where the machine-id may live; the first readable, non-empty one wins. */
const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** Interface names that are virtual whatever the OS says about them. */
const VIRTUAL_INTERFACE = /^(lo|docker|veth|br-|virbr|vnet|vmnet|vboxnet|tun|tap|wg|tailscale|zt|cni|flannel|cali|weave|kube|podman|lxc|lxd|ifb|dummy|bond|team|macvtap|utun|awdl|llw|bridge|gif|stf|anpi|ap\d)/i;

const ZERO_MAC = '00:00:00:00:00:00';

/** A source of machine identifiers; tests inject one to play "another machine". */
export type MachineIdentifierSource = () => MachineIdentifiers;

function readTrimmed(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined; // absent or unreadable: this identifier is simply not available here
  }
}

/** The machine-id, or undefined where there is none (many containers). */
export function readMachineId(): string | undefined {
  for (const path of MACHINE_ID_PATHS) {
    const id = readTrimmed(path);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * MACs of physical interfaces. On Linux, from /sys/class/net: an interface
 * is physical when it has a `device` (a bus device behind it) and its address
 * was not randomly generated; that also sees interfaces that are down.
 * Elsewhere, from os.networkInterfaces() minus internal, all-zero and
 * virtual-named ones.
 */
export function readPhysicalMacs(sysClassNet = '/sys/class/net'): string[] {
  const macs = new Set<string>();
  let names: string[] | undefined;
  try {
    names = readdirSync(sysClassNet);
  } catch {
    names = undefined;
  }
  if (names !== undefined) {
    for (const name of names) {
      const dir = join(sysClassNet, name);
      if (VIRTUAL_INTERFACE.test(name) || !existsSync(join(dir, 'device'))) continue;
      if (readTrimmed(join(dir, 'addr_assign_type')) === '1') continue; // random MAC
      const mac = readTrimmed(join(dir, 'address'))?.toLowerCase();
      if (mac !== undefined && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && mac !== ZERO_MAC) macs.add(mac);
    }
    return [...macs].sort();
  }
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    if (VIRTUAL_INTERFACE.test(name)) continue;
    for (const address of addresses ?? []) {
      if (!address.internal && address.mac !== ZERO_MAC) macs.add(address.mac.toLowerCase());
    }
  }
  return [...macs].sort();
}

/** This machine's identifiers, read now. */
export const readMachineIdentifiers: MachineIdentifierSource = () => ({
  machineId: readMachineId(),
  macs: readPhysicalMacs(),
  hostname: os.hostname(),
});
