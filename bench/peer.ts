// Grafana Loki's figures for the same workload, transcribed from ../shared/peer-figures.md
// (measured 2026-11-28 on a 2-vCPU VM, Loki main-65e30f8, snappy chunk encoding, medians of 5
// runs). Two columns are used: snappy 0.5 GiB "run 2" (the one with the noise figures) and
// snappy 2 GiB. Times in ms, memory and disk in MiB, CPU in seconds.

export interface PeerQuery {
  median: number;
  min: number;
  cpu: number;
}

export interface PeerPhase {
  q1: PeerQuery;
  q2: PeerQuery;
  q3: PeerQuery;
  q4: PeerQuery;
  q5: PeerQuery;
  /** p50 / p99 ms */
  labels: [number, number];
  values: [number, number];
  series: [number, number];
}

export interface PeerRun {
  name: string;
  gib: number;
  lines: number;
  wallS: number;
  mibPerS: number;
  linesPerS: number;
  pushP50: number;
  pushP99: number;
  cpuS: number;
  cpuSPerGiB: number;
  idleRss: number;
  peakRssIngest: number;
  peakRssQueries: number;
  diskAfterIngest: number;
  chunks: number;
  index: number;
  wal: number;
  chunksPerGiB: number;
  dataDirPerGiB: number;
  flushWallS: number;
  flushCpuS: number;
  head: PeerPhase;
  flushed: PeerPhase;
}

const q = (median: number, min: number, cpu: number): PeerQuery => ({ median, min, cpu });

export const LOKI_SNAPPY_05_RUN2: PeerRun = {
  name: 'Loki snappy 0.5 GiB (run 2)',
  gib: 0.5, lines: 3_849_119, wallS: 7.7, mibPerS: 66.3, linesPerS: 498_797, pushP50: 57, pushP99: 111,
  cpuS: 14.6, cpuSPerGiB: 29.1, idleRss: 117, peakRssIngest: 780, peakRssQueries: 1058,
  diskAfterIngest: 621, chunks: 183, index: 0, wal: 621, chunksPerGiB: 367, dataDirPerGiB: 1610,
  flushWallS: 17.2, flushCpuS: 0.5,
  head: {
    q1: q(788, 766, 1.4), q2: q(141, 99, 0.19), q3: q(3161, 2872, 5.92), q4: q(18, 17, 0.02), q5: q(1354, 1261, 2.39),
    labels: [0.9, 3.9], values: [1.0, 1.4], series: [3.3, 6.6],
  },
  flushed: {
    q1: q(886, 864, 1.55), q2: q(168, 107, 0.25), q3: q(2782, 2736, 5.24), q4: q(31, 28, 0.03), q5: q(1023, 1014, 1.91),
    labels: [1.3, 3.2], values: [1.1, 3.3], series: [4.8, 10.9],
  },
};

export const LOKI_SNAPPY_2: PeerRun = {
  name: 'Loki snappy 2 GiB',
  gib: 2, lines: 15_397_871, wallS: 36.9, mibPerS: 55.6, linesPerS: 417_713, pushP50: 64, pushP99: 178,
  cpuS: 68.2, cpuSPerGiB: 34.1, idleRss: 121, peakRssIngest: 2304, peakRssQueries: 3562,
  diskAfterIngest: 2851, chunks: 726, index: 0, wal: 2476, chunksPerGiB: 363, dataDirPerGiB: 1601,
  flushWallS: 10.2, flushCpuS: 0.4,
  head: {
    q1: q(4088, 3792, 7.35), q2: q(291, 246, 0.45), q3: q(10944, 10629, 20.5), q4: q(68, 50, 0.08), q5: q(3573, 3475, 6.91),
    labels: [0.9, 2.5], values: [0.9, 5.7], series: [3.3, 9.8],
  },
  flushed: {
    q1: q(2962, 2921, 5.3), q2: q(206, 98, 0.23), q3: q(10488, 9874, 20.22), q4: q(39, 34, 0.06), q5: q(3622, 3477, 6.85),
    labels: [0.9, 1.5], values: [0.9, 5.3], series: [3.8, 10.7],
  },
};

/** The Loki column for a run of `gib` raw GiB: the 2 GiB run at 2 GiB, else 0.5 GiB run 2. */
export function peerFor(gib: number): { peer: PeerRun; sizeMatches: boolean } {
  const peer = Math.abs(gib - 2) < 0.01 ? LOKI_SNAPPY_2 : LOKI_SNAPPY_05_RUN2;
  return { peer, sizeMatches: Math.abs(gib - peer.gib) < 0.01 };
}
