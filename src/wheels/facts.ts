/** What the wheels stage reads from each wheel for the stages above it (the closure check, the packages). */
import type { WheelName } from '../python/tags.ts';

export interface WheelFacts {
  name: WheelName;
  /** From METADATA. */
  metadataName: string;
  metadataVersion: string;
  summary?: string;
  /** SPDX license expression from METADATA (metadata.ts licenseOf); none when the wheel declares none. */
  license?: string;
  /** The project's home page from METADATA (metadata.ts homePageOf). */
  homePage?: string;
  /** The copyright statements of its license files (metadata.ts copyrightNotices). */
  copyright?: string[];
  requiresDist: string[];
  requiresPython?: string;
  providesExtra: string[];
  /** Names of its console_scripts entry points. */
  consoleScripts: string[];
  /** Importable top-level modules and packages it installs. */
  topLevel: string[];
}

/** Part of the key of every cached wheel verdict: a change of WheelFacts' fields makes the cached facts read again. */
export const WHEEL_FACTS_VERSION = 2;
