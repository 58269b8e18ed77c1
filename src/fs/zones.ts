// Where a path lives: which mount, which zone (subzones override the mount's zone for a
// subtree), and its path in the source directory. One mount has one MountView.
import path from 'node:path';
import type { MountConfig, ZoneConfig } from '../config/index.js';

export interface FileLocation {
  mount: string;
  /** Path inside the mount, always starting with "/". */
  rel: string;
  /** As the user sees it: mountpoint + rel. */
  userPath: string;
  /** The real file: source + rel. */
  sourcePath: string;
  zone: ZoneConfig;
}

export class MountView {
  private readonly subzones: Array<{ prefix: string; zone: ZoneConfig }>;

  constructor(
    readonly config: MountConfig,
    private readonly zones: Record<string, ZoneConfig>,
  ) {
    // Longest prefix first, so the most specific subzone wins.
    this.subzones = config.subzones
      .map((s) => ({ prefix: '/' + s.path, zone: zones[s.zone]! }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get name(): string {
    return this.config.name;
  }

  zoneOf(rel: string): ZoneConfig {
    for (const s of this.subzones) {
      if (rel === s.prefix || rel.startsWith(s.prefix + '/')) return s.zone;
    }
    return this.zones[this.config.zone]!;
  }

  locate(rel: string): FileLocation {
    const clean = rel.startsWith('/') ? rel : '/' + rel;
    return {
      mount: this.config.name,
      rel: clean,
      userPath: clean === '/' ? this.config.mountpoint : path.join(this.config.mountpoint, clean),
      sourcePath: clean === '/' ? this.config.source : path.join(this.config.source, clean),
      zone: this.zoneOf(clean),
    };
  }
}

/** Finds which mount (if any) a user-visible or source path belongs to. */
export function locateAny(views: MountView[], p: string): FileLocation | undefined {
  const abs = path.resolve(p);
  for (const v of views) {
    for (const root of [v.config.mountpoint, v.config.source]) {
      const relp = path.relative(root, abs);
      if (relp === '' || (!relp.startsWith('..') && !path.isAbsolute(relp))) return v.locate('/' + relp);
    }
  }
  return undefined;
}
