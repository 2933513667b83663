/**
 * What the delta benchmark hands Lockstep's paths (feedPath.ts, databasePath.ts) and what they report back.
 */
import type { SignedFeed } from './signedFeed';

export interface DeltaPair {
  /** A scratch folder the path may write into (deleted by the benchmark). */
  work: string;
  format: string;
  oldFile: string;
  newFile: string;
  oldVersion: string;
  newVersion: string;
  size: number;
  sha512: string;
  /** The format's versions in a vendor-signed feed folder (Lockstep's own feed writer). */
  feed: SignedFeed;
  progress(msg: string): void;
}

/** One format's versions in release order, for paths that follow a site through its releases. */
export interface VersionSeries {
  work: string;
  format: string;
  files: string[];
  versions: string[];
  feed: SignedFeed;
  progress(msg: string): void;
}

export type MemoryWatch = () => { stop(): number };

export interface DbResult {
  backend: string;
  bytesRead: number | null;
  rssGrowth: number | null;
  note?: string;
}

export interface FleetRun {
  ms: number;
  bytesRead: number;
  rssGrowth: number;
  /** CPU time of this process (every simulated workstation) during the run. */
  cpuMs: number;
  /** CPU time of the local PostgreSQL server during the run (null: not measurable here). */
  serverCpuMs: number | null;
}

export interface FleetResult {
  workstations: number;
  k: number;
  patch: FleetRun;
  full: FleetRun;
}
