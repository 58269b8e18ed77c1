// Embedded defaults: the zones every deployment has and the paths systemd provides.
import type { PrincipalSet, ZoneConfig } from './types.js';

export const BUILTIN_ZONES: Record<string, ZoneConfig> = {
  governed: { name: 'governed', kind: 'governed', encrypted: true, external: false, description: 'governed, monitored storage: PROPRIETARY allowed' },
  internal: { name: 'internal', kind: 'internal', encrypted: false, external: false, description: 'internal systems: INTERNAL and below' },
  unmanaged: { name: 'unmanaged', kind: 'unmanaged', encrypted: false, external: false, description: 'leaves governance (Downloads, /tmp, Desktop): PUBLIC unless an exception applies' },
  external: { name: 'external', kind: 'external', encrypted: false, external: true, description: 'removable media, network shares, cloud sync: PUBLIC only' },
};

export const DEFAULTS = {
  mode: 'enforce' as const,
  stateDir: '/var/lib/lacuna-fs',
  runtimeDir: '/run/lacuna-fs',
  policies: '/etc/lacuna-fs/policies',
  admins: { users: ['root'], groups: ['lacuna-admin'] } as PrincipalSet,
  approvers: { users: [], groups: ['lacuna-approver'] } as PrincipalSet,
};
