/**
 * Lockstep's own delta paths as the benchmark drives them: the differential download from the feed against the kept
 * package, the assembly from database blocks, and the fleet upgrading through the database. Each is null (with the
 * reason in `missing`) until the build has the mechanism, so the benchmark runs against whatever is merged.
 */
import { databasePath, fleetPath } from './databasePath';
import { feedPath } from './feedPath';
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
}

export interface FleetResult {
  workstations: number;
  k: number;
  patch: FleetRun;
  full: FleetRun;
}

export interface LockstepPaths {
  feed: ((p: DeltaPair) => Promise<{ fetched: number; note?: string }>) | null;
  /** Results per consecutive pair of the series (index 0: versions[0] → versions[1]). */
  database: ((s: VersionSeries, watch: MemoryWatch) => Promise<DbResult[][]>) | null;
  fleet: ((p: DeltaPair, o: { workstations: number; k: number; memoryWatch: MemoryWatch }) => Promise<FleetResult>) | null;
  missing: { feed: string | null; database: string | null; fleet: string | null };
}

export const lockstepPaths: LockstepPaths = {
  feed: feedPath,
  database: databasePath,
  fleet: fleetPath,
  missing: {
    feed: null,
    database: null,
    fleet: null,
  },
};
