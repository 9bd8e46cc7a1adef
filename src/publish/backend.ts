/**
 * What the publish orchestrator (publish.ts) asks of a repository format.
 * The orchestrator runs the steps every format shares, once; a backend
 * (rpm.ts: yum/dnf, apt.ts: apt) knows its package files, its version order
 * and its metadata, and nothing about the order of the steps.
 */
import type { Selection, Versioned } from './keep.ts';
import type { DeltaReport } from './report.ts';

/** A package file the repository holds, or is about to hold. */
export interface RepoPackage extends Versioned {
  arch: string;
  /** Absolute path of the file to read: the repository's, the incoming one, or its staged copy. */
  path: string;
  /** Path relative to the repository root once published. */
  href: string;
  size: number;
  /** From the packages directory: to be copied in. */
  isNew: boolean;
  /** Listed by the repository's current metadata (false for new packages and for leftovers of an interrupted publish). */
  published: boolean;
  /** Replaces a file of the same name that no metadata lists (left by an interrupted publish). */
  replace?: boolean;
}

/** A staged file that goes into the repository under `href`. */
export interface StagedFile {
  path: string;
  href: string;
  replace?: boolean;
}

/** A package whose newest version this publish adds while older ones are published. */
export interface Upgrade<P> {
  newest: P;
  /** The published older versions, newest first. */
  before: P[];
}

/** What the repository holds after this publish, decided by the keep policy. */
export interface PublishPlan<P> {
  /** The newest version of each package and the kept older ones. */
  kept: P[];
  /** Older than the kept versions: removed after the switch. */
  pruned: P[];
  /** Kept and new to the metadata: copied in now, or left on disk by an interrupted publish. */
  added: P[];
  /** Kept and from the packages directory: copied into the repository. */
  copied: P[];
  /** The keep decision of each package name, names sorted. */
  selections: Selection<P>[];
  /** Each package's position in its package manager's version order (oldest 0). */
  rank: Map<P, number>;
  upgrades: Upgrade<P>[];
}

export interface RepositoryBackend<P extends RepoPackage> {
  readonly format: 'rpm' | 'deb';
  /** The package file extension, e.g. `.rpm` (for messages). */
  readonly extension: string;
  /** Whether a file directly in the packages directory is one to publish. */
  isPackageFile(name: string): boolean;
  /**
   * The packages the repository holds and the incoming ones it does not hold
   * yet, for the keep policy to choose from; InputError for an incoming
   * package published with other content.
   */
  candidates(incoming: string[], warnings: string[]): Promise<P[]>;
  /** Each group of versions sorted oldest first by the package manager, equal versions grouped. */
  sortVersions(groups: string[][]): Promise<string[][][]>;
  /** A package's version as reports show it. */
  version(p: P): string;
  /** The warning for an incoming package older than every kept version. */
  tooOld(p: P, keep: number): string;
  /** Warnings about packages that stay as they are. */
  keptWarnings?(plan: PublishPlan<P>): Promise<string[]>;
  /** Whether the current metadata already says exactly what `plan` keeps (called when nothing is added or pruned). */
  metadataCurrent(plan: PublishPlan<P>): Promise<boolean>;
  /** Work on the staged new packages (their `path`) before they go in; returns more files to place with them. */
  prepare?(plan: PublishPlan<P>, staging: string, warnings: string[]): Promise<StagedFile[]>;
  /** The new metadata, in `staging` (and under new names only in the repository). */
  writeMetadata(plan: PublishPlan<P>, staging: string): Promise<void>;
  /** Replaces the published metadata, the file readers read first last; returns that file. */
  switchMetadata(staging: string): Promise<string>;
  /** Removes pruned packages and metadata no reader needs any more. */
  cleanUp(plan: PublishPlan<P>): Promise<void>;
  /** The deltas published for a new package (formats with deltas). */
  deltas?(p: P): DeltaReport[];
}
