import type { Target } from '../targets/target.ts';
import type { HistoryUpdate } from './history.ts';
import type { SignOptions } from './sign.ts';

export interface PublishOptions {
  /** Reqset name (for the report). */
  reqset: string;
  target: Target;
  /** `<out>/<reqset>/<target>/packages`: the *.rpm or *.deb files to publish. */
  packagesDir: string;
  /** Repository directory, created if missing. */
  repo: string;
  /** Older versions of each package kept next to the newest (default 2); rpm deltas are made from each. */
  keep?: number;
  /** GPG key id to sign with (packages, repomd.xml, Release). */
  sign?: string;
  /** GNUPGHOME for signing. */
  gpgHome?: string;
  /** apt suite (default: the target's distribution, e.g. bookworm). */
  suite?: string;
  /** apt component (default main). */
  component?: string;
  /** One line per step (stderr material). */
  progress?: (line: string) => void;
  /** How long to wait for another publish to the same repository (default 30 minutes). */
  lockTimeoutMs?: number;
  /** Parallel delta builds (default: CPU count). */
  jobs?: number;
}

/** The options once validated and defaulted. */
export interface PublishContext extends PublishOptions {
  repo: string;
  packagesDir: string;
  keep: number;
  progress: (line: string) => void;
  jobs: number;
  /** From `sign` and `gpgHome`: the key packages and metadata are signed with. */
  signing?: SignOptions;
  /** The repository's history with this build added, written just before the metadata switch. */
  history: HistoryUpdate;
}
