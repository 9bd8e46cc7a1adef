/** What the wheels stage reads from each wheel for the stages above it (the closure check, the packages). */
import type { WheelName } from '../python/tags.ts';

export interface WheelFacts {
  name: WheelName;
  /** From METADATA. */
  metadataName: string;
  metadataVersion: string;
  summary?: string;
  requiresDist: string[];
  requiresPython?: string;
  providesExtra: string[];
  /** Names of its console_scripts entry points. */
  consoleScripts: string[];
  /** Importable top-level modules and packages it installs. */
  topLevel: string[];
}
