// The Drain log-clustering algorithm as Loki's pattern ingester runs it (pkg/pattern/drain):
// a prefix tree keyed by token count then by leading tokens, clusters kept in an LRU of
// `maxClusters` entries (evictions feed a limiter that pauses training for 10 minutes when more
// than `maxEvictionRatio` of new clusters get evicted), lines with <4 or >80 tokens or longer
// than `maxAllowedLineLength` ignored, and per-cluster sample chunks counting lines per
// `sampleInterval` bucket (a chunk spans at most `maxChunkAge`). Pure in-memory state; the clock
// is injectable for the limiter and pruning.
import {
  FORMAT_JSON, FORMAT_LOGFMT, JSONTokenizer, LineTokenizer, LogfmtTokenizer, PARAM,
  PunctuationTokenizer, deduplicatePlaceholders, hasNumbers,
} from './tokenizers.js';

export interface DrainConfig {
  logClusterDepth: number;
  simTh: number;
  maxChildren: number;
  maxClusters: number;
  maxEvictionRatio: number;
  maxAllowedLineLength: number;
  maxChunkAgeMs: number;
  sampleIntervalMs: number;
  /** JSON fields tokenized for JSON streams, in priority order. */
  tokenizableJSONFields: readonly string[];
}

export function defaultDrainConfig(): DrainConfig {
  return {
    logClusterDepth: 30,
    simTh: 0.3,
    maxChildren: 15,
    maxClusters: 300,
    maxEvictionRatio: 0.25,
    maxAllowedLineLength: 3000,
    maxChunkAgeMs: 3600_000,
    sampleIntervalMs: 10_000,
    tokenizableJSONFields: ['log', 'message', 'msg', 'msg_', '_msg', 'content'],
  };
}

/** One chunk of samples: parallel arrays of bucket start (ms) and count. */
export interface Chunk {
  ts: number[];
  counts: number[];
}

export class LogCluster {
  size = 0;
  volume = 0;
  sampleCount = 0;
  chunks: Chunk[] = [];
  private rendered: string | null = null;
  constructor(
    readonly id: number,
    public tokens: string[],
    readonly state: number[] | null,
    private readonly tokenizer: LineTokenizer,
  ) {}

  /** The pattern text (cached until the template changes). */
  pattern(): string {
    if (this.rendered === null) this.rendered = deduplicatePlaceholders(this.tokenizer.join(this.tokens, this.state));
    return this.rendered;
  }

  /** Replaces differing tokens with the placeholder (Drain's createTemplate). */
  mergeTemplate(tokens: readonly string[]): void {
    const mine = this.tokens;
    for (let i = 0; i < mine.length; i++) {
      if (mine[i] !== tokens[i] && mine[i] !== PARAM) {
        mine[i] = PARAM;
        this.rendered = null;
      }
    }
  }

  /** Counts one line at tsMs (Chunks.Add). */
  addSample(tsMs: number, maxChunkAgeMs: number, intervalMs: number): void {
    this.size++;
    const t = tsMs - (tsMs % intervalMs);
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push({ ts: [t], counts: [1] });
      return;
    }
    const last = chunks[chunks.length - 1]!;
    const li = last.ts.length - 1;
    if (last.ts[li] === t) {
      last.counts[li]!++;
      return;
    }
    if (t - last.ts[0]! >= maxChunkAgeMs) {
      chunks.push({ ts: [t], counts: [1] });
      return;
    }
    if (tsMs < last.ts[li]!) return;
    last.ts.push(t);
    last.counts.push(1);
  }

  /** Drops chunks whose newest sample is older than olderThanMs before nowMs; updates size. */
  prune(nowMs: number, olderThanMs: number): void {
    const kept: Chunk[] = [];
    let size = 0;
    for (const c of this.chunks) {
      if (nowMs - c.ts[c.ts.length - 1]! > olderThanMs) continue;
      kept.push(c);
      for (const v of c.counts) size += v;
    }
    this.chunks = kept;
    this.size = size;
  }
}

class Node {
  children: Map<string, Node> | null = null;
  clusterIDs: number[] = [];
  child(key: string): Node | undefined {
    return this.children === null ? undefined : this.children.get(key);
  }
  setChild(key: string, n: Node): void {
    if (this.children === null) this.children = new Map();
    this.children.set(key, n);
  }
  childCount(): number {
    return this.children === null ? 0 : this.children.size;
  }
}

/** Pauses training when too many new clusters are evicted (drain/limiter.go). */
class Limiter {
  private added = 0;
  private evicted = 0;
  private blockedUntil = 0;
  constructor(private readonly maxRatio: number, private readonly now: () => number) {}
  allow(): boolean {
    if (this.blockedUntil !== 0) {
      if (this.now() < this.blockedUntil) return false;
      this.added = 0;
      this.evicted = 0;
      this.blockedUntil = 0;
    }
    if (this.added === 0) {
      this.added++;
      return true;
    }
    if (this.evicted / this.added > this.maxRatio) {
      this.blockedUntil = this.now() + 10 * 60_000;
      return false;
    }
    this.added++;
    return true;
  }
  evict(): void {
    this.evicted++;
  }
}

export function newTokenizer(format: string, cfg: DrainConfig): LineTokenizer {
  if (format === FORMAT_JSON) return new JSONTokenizer(cfg.maxAllowedLineLength, cfg.tokenizableJSONFields);
  if (format === FORMAT_LOGFMT) return new LogfmtTokenizer(cfg.maxAllowedLineLength);
  return new PunctuationTokenizer(cfg.maxAllowedLineLength);
}

export class Drain {
  private readonly root = new Node();
  /** LRU of clusters: Map iteration order = least recently used first. */
  private readonly clusters = new Map<number, LogCluster>();
  private counter = 0;
  private readonly limiter: Limiter;
  private readonly tokenizer: LineTokenizer;
  private readonly maxNodeDepth: number;

  constructor(private readonly cfg: DrainConfig, format: string, now: () => number) {
    this.maxNodeDepth = cfg.logClusterDepth - 2;
    this.limiter = new Limiter(cfg.maxEvictionRatio, now);
    this.tokenizer = newTokenizer(format, cfg);
  }

  /** Live clusters, least recently used first. */
  allClusters(): IterableIterator<LogCluster> {
    return this.clusters.values();
  }

  clusterCount(): number {
    return this.clusters.size;
  }

  private get(id: number): LogCluster | undefined {
    const c = this.clusters.get(id);
    if (c !== undefined) {
      this.clusters.delete(id);
      this.clusters.set(id, c);
    }
    return c;
  }

  train(line: string, tsMs: number): LogCluster | null {
    if (!this.limiter.allow()) return null;
    const tk = this.tokenizer;
    if (!tk.tokenize(line)) return null;
    const tokens = tk.tokens;
    if (tokens.length < 4 || tokens.length > 80) return null;
    const cfg = this.cfg;
    let match = this.treeSearch(tokens);
    if (match === null) {
      const id = ++this.counter;
      match = new LogCluster(id, tokens.slice(), tk.state === null ? null : tk.state.slice(), tk);
      match.size = 1;
      match.volume = utf8Len(line);
      match.sampleCount = 1;
      match.addSample(tsMs, cfg.maxChunkAgeMs, cfg.sampleIntervalMs);
      this.clusters.set(id, match);
      if (cfg.maxClusters > 0 && this.clusters.size > cfg.maxClusters) {
        const oldest = this.clusters.keys().next().value as number;
        this.clusters.delete(oldest);
        this.limiter.evict();
      }
      this.addSeqToPrefixTree(match);
    } else {
      match.mergeTemplate(tokens);
      match.addSample(tsMs, cfg.maxChunkAgeMs, cfg.sampleIntervalMs);
      match.volume += utf8Len(line);
      match.sampleCount++;
      this.get(match.id);
    }
    return match;
  }

  private treeSearch(tokens: readonly string[]): LogCluster | null {
    const n = tokens.length;
    let cur = this.root.child(String(n));
    if (cur === undefined) return null;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= this.maxNodeDepth || depth === n) break;
      const parent: Node = cur!;
      cur = parent.child(token) ?? parent.child(PARAM);
      if (cur === undefined) return null;
      depth++;
    }
    return this.fastMatch(cur!.clusterIDs, tokens);
  }

  private fastMatch(ids: readonly number[], tokens: readonly string[]): LogCluster | null {
    let best: LogCluster | null = null;
    let maxSim = -1;
    let maxParams = -1;
    for (const id of ids) {
      const c = this.get(id);
      if (c === undefined) continue;
      const ct = c.tokens;
      let sim = 0;
      let params = 0;
      let rejected = false;
      for (let i = 0; i < ct.length; i++) {
        const t1 = ct[i]!;
        const t2 = tokens[i]!;
        if (t1.length > 0 && t1.charCodeAt(0) === 0 && t1 !== t2) {
          rejected = true;
          break;
        }
        if (t1 === PARAM) params++;
        else if (t1 === t2) sim++;
      }
      if (rejected) continue;
      const s = sim / ct.length;
      if (s > maxSim || (s === maxSim && params > maxParams)) {
        maxSim = s;
        maxParams = params;
        best = c;
      }
    }
    return maxSim >= this.cfg.simTh ? best : null;
  }

  private addSeqToPrefixTree(cluster: LogCluster): void {
    const tokens = cluster.tokens;
    const n = tokens.length;
    const key = String(n);
    let cur = this.root.child(key);
    if (cur === undefined) {
      cur = new Node();
      this.root.setChild(key, cur);
    }
    if (n === 0) {
      cur.clusterIDs.push(cluster.id);
      return;
    }
    const maxChildren = this.cfg.maxChildren;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= this.maxNodeDepth || depth >= n) {
        const kept: number[] = [];
        for (const id of cur.clusterIDs) if (this.get(id) !== undefined) kept.push(id);
        kept.push(cluster.id);
        cur.clusterIDs = kept;
        break;
      }
      const existing = cur.child(token);
      if (existing === undefined) {
        const paramNode = cur.child(PARAM);
        if (!hasNumbers(token)) {
          if (paramNode !== undefined) {
            if (cur.childCount() < maxChildren) {
              const nn = new Node();
              cur.setChild(token, nn);
              cur = nn;
            } else cur = paramNode;
          } else if (cur.childCount() + 1 < maxChildren) {
            const nn = new Node();
            cur.setChild(token, nn);
            cur = nn;
          } else if (cur.childCount() + 1 === maxChildren) {
            const nn = new Node();
            cur.setChild(PARAM, nn);
            cur = nn;
          } else {
            // Go descends into a nil node here and would crash on the next step; it cannot
            // happen with childCount bounded by maxChildren, but stay safe.
            if (paramNode === undefined) break;
            cur = paramNode;
          }
        } else if (paramNode === undefined) {
          const nn = new Node();
          cur.setChild(PARAM, nn);
          cur = nn;
        } else cur = paramNode;
      } else cur = existing;
      depth++;
    }
  }

  /** Removes a cluster without counting it as an eviction (Drain.Delete). */
  delete(cluster: LogCluster): void {
    this.clusters.delete(cluster.id);
  }

  /** Drops tree branches that lead to no live cluster (Drain.Prune). */
  pruneTree(): void {
    this.pruneNode(this.root);
  }

  private pruneNode(node: Node): number {
    if (node.children !== null) {
      for (const [k, child] of node.children) {
        if (this.pruneNode(child) === 0) node.children.delete(k);
      }
    }
    let valid = 0;
    for (const id of node.clusterIDs) if (this.get(id) !== undefined) valid++;
    return node.childCount() + valid;
  }
}

function utf8Len(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 2; // 2 UTF-16 units -> 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}
