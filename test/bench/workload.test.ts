// The benchmark's workload generator: perturbation rules (lengths kept, years kept, leading half
// of digit runs kept, hex tokens randomised with their case), determinism, needles, timestamps,
// and batches that decode back to exactly the generated lines, split by sender as specified.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { buildWorkload, loadLoghub, loghubDir, NEEDLE, perturb, Rng, SENDERS, BATCH_LINE_BYTES } from '../../bench/workload.js';
import { decodePushBody } from '../../src/push/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

function p(s: string, seed = 1): string {
  const b = Buffer.from(s);
  perturb(b, new Rng(seed));
  return b.toString();
}

describe('perturb', () => {
  it('keeps lengths, words without digits and 19xx/20xx years', () => {
    const s = 'Dec 10 06:55:46 LabSZ sshd: failed password 2005 1999 1899 for root';
    const out = p(s);
    expect(out.length).toBe(s.length);
    expect(out.startsWith('Dec 10 06:55:46 LabSZ sshd: failed password 2005 1999 ')).toBe(true);
    expect(out.endsWith(' for root')).toBe(true);
    expect(out.slice(-13, -9)).toMatch(/^18\d\d$/);
  });

  it('keeps the leading half of digit runs of 3 or more and randomises the rest', () => {
    const outs = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const out = p('pid=12345678 port 22 code 123', seed);
      expect(out).toMatch(/^pid=1234\d{4} port 22 code 1\d\d$/);
      outs.add(out);
    }
    expect(outs.size).toBeGreaterThan(10);
  });

  it('randomises hex-ish tokens (>= 6 chars with a digit and a letter) fully, keeping case', () => {
    const s = 'token{9f4ef63} ID DEADBEEF12 cafe babe deadbeef abc12';
    const out = p(s);
    expect(out.length).toBe(s.length);
    expect(out.slice(6, 13)).toMatch(/^[0-9a-f]{7}$/);
    expect(out.slice(18, 28)).toMatch(/^[0-9A-F]{10}$/);
    // no digit (deadbeef), too short (abc12): unchanged
    expect(out.slice(28)).toBe(' cafe babe deadbeef abc12');
  });

  it('is deterministic for a seed', () => {
    const s = 'blk_-1608999687919862906 at 081109 203615 148 req-38101a0b-2096-447d';
    expect(p(s, 5)).toBe(p(s, 5));
    expect(p(s, 5)).not.toBe(p(s, 6));
  });
});

describe('buildWorkload', () => {
  const jobs = loadLoghub(loghubDir(ROOT));
  const endMs = 1_800_000_000_000;
  const target = 8 * 2 ** 20;
  const w = buildWorkload(jobs, target, 3, endMs);

  it('produces 128 streams with the peer labels', () => {
    expect(jobs.map((j) => j.job)).toEqual(['android', 'apache', 'bgl', 'hadoop', 'hdfs', 'healthapp', 'hpc', 'linux', 'mac', 'openssh', 'openstack', 'proxifier', 'spark', 'thunderbird', 'windows', 'zookeeper']);
    expect(w.streams).toHaveLength(128);
    expect(w.streams[0]!.labels).toBe('{host="node-01", job="android", namespace="prod"}');
    expect(w.streams[9]!.labels).toBe('{host="node-02", job="apache", namespace="staging"}');
    expect(w.streams[127]!.labels).toBe('{host="node-08", job="zookeeper", namespace="data"}');
  });

  it('stops at the first line reaching the target and counts every line', () => {
    expect(w.rawBytes).toBeGreaterThanOrEqual(target);
    expect(w.rawBytes - target).toBeLessThan(2000);
    expect([...w.linesByJob.values()].reduce((a, b) => a + b, 0)).toBe(w.lines);
    expect(w.needles).toHaveLength(Math.floor((w.lines - 50_000 - 1) / 100_000) + 1);
    expect(w.needles[0]!.line.endsWith(' ' + NEEDLE)).toBe(true);
  });

  it('spaces timestamps evenly over the 2 hours ending at endMs', () => {
    const endNs = BigInt(endMs) * 1_000_000n;
    expect(w.firstNs).toBe(endNs - 7_200_000_000_000n);
    expect(w.lastNs).toBeLessThan(endNs);
    expect(endNs - w.lastNs).toBeLessThan(2n * (7_200_000_000_000n / BigInt(w.lines)));
  });

  it('is the same for the same seed', () => {
    const again = buildWorkload(jobs, target, 3, endMs);
    expect(again.lines).toBe(w.lines);
    expect(Buffer.concat(again.bodies.flat()).equals(Buffer.concat(w.bodies.flat()))).toBe(true);
  });

  it('batches decode to exactly the generated lines, per sender and ordered per stream', () => {
    let lines = 0;
    let bytes = 0;
    const needles = new Set(w.needles.map((n) => `${n.labels} ${n.tsNs} ${n.line}`));
    let needlesFound = 0;
    const allTs = new Set<bigint>();
    expect(w.bodies).toHaveLength(SENDERS);
    for (let k = 0; k < SENDERS; k++) {
      const lastTs = new Map<string, bigint>();
      w.bodies[k]!.forEach((body, bi) => {
        const streams = decodePushBody(body, 'application/x-protobuf', undefined, { maxDecompressedBytes: 0, discoverServiceName: [] });
        let batchBytes = 0;
        for (const s of streams) {
          const idx = w.streams.findIndex((d) => d.labels === s.labelsString);
          expect(idx % SENDERS).toBe(k);
          for (const e of s.entries) {
            const prev = lastTs.get(s.labelsString);
            if (prev !== undefined) expect(e.tsNs > prev).toBe(true);
            lastTs.set(s.labelsString, e.tsNs);
            allTs.add(e.tsNs);
            if (needles.has(`${s.labelsString} ${e.tsNs} ${e.line}`)) needlesFound++;
            lines++;
            batchBytes += Buffer.byteLength(e.line);
          }
        }
        bytes += batchBytes;
        if (bi < w.bodies[k]!.length - 1) expect(batchBytes).toBeGreaterThanOrEqual(BATCH_LINE_BYTES);
      });
    }
    expect(lines).toBe(w.lines);
    expect(bytes).toBe(w.rawBytes);
    expect(allTs.size).toBe(w.lines);
    expect(needlesFound).toBe(w.needles.length);
    expect(w.pushes).toBe(w.bodies.flat().length);
  });
});
