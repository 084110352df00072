/**
 * CRIU's version: parsing `criu --version` and the oldest version that works here.
 * CRIU 3.17 fails on current kernels (vDSO layout), and 4.1 cannot dump TCP/UDP
 * sockets on them; 4.2 is the first that does both.
 */

/** A CRIU version as `criu --version` prints it. */
export interface CriuVersion {
  major: number;
  minor: number;
  patch: number;
  /** As printed, e.g. "4.2.1". */
  text: string;
}

/** The oldest CRIU this plugin accepts. */
export const MIN_CRIU_VERSION: CriuVersion = { major: 4, minor: 2, patch: 0, text: '4.2' };

/**
 * Reads the version out of `criu --version` output ("Version: 4.2.1", maybe followed by
 * "GitID: ..."). Returns undefined when there is none.
 */
export function parseCriuVersion(output: string): CriuVersion | undefined {
  const m = /^\s*Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/m.exec(output);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { major, minor, patch, text: m[3] === undefined ? `${major}.${minor}` : `${major}.${minor}.${patch}` };
}

/** True when `v` is older than `min`. */
export function isOlderThan(v: CriuVersion, min: CriuVersion = MIN_CRIU_VERSION): boolean {
  if (v.major !== min.major) return v.major < min.major;
  if (v.minor !== min.minor) return v.minor < min.minor;
  return v.patch < min.patch;
}
