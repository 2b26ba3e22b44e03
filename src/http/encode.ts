// Loki JSON response shapes for log query results (streams, with or without categorize-labels)
// and the `stats` block (Loki's keys; our own counters where we have them).
import { nsString } from '../chunk/block-reader.js';
import type { QueryStats, ResultStream } from '../query/engine.js';
import { labelsToObject } from '../util/labels.js';

export function encodeStreams(streams: ResultStream[], categorize: boolean): unknown[] {
  return streams.map((s) => {
    if (!categorize) {
      return { stream: labelsToObject(s.labels), values: s.entries.map((e) => [nsString(e.tsMs, e.tsRem), e.line]) };
    }
    return {
      stream: labelsToObject(s.labels),
      values: s.entries.map((e) => {
        const c = e.categorized;
        const extra: Record<string, Record<string, string>> = {};
        if (c && c.structuredMetadata.length) extra.structuredMetadata = labelsToObject(c.structuredMetadata);
        if (c && c.parsed.length) extra.parsed = labelsToObject(c.parsed);
        return [nsString(e.tsMs, e.tsRem), e.line, extra];
      }),
    };
  });
}

function storeStats(): Record<string, unknown> {
  return {
    totalChunksRef: 0, totalChunksDownloaded: 0, chunksDownloadTime: 0, queryReferencedStructuredMetadata: false,
    chunk: { headChunkBytes: 0, headChunkLines: 0, decompressedBytes: 0, decompressedLines: 0, compressedBytes: 0, totalDuplicates: 0, postFilterLines: 0, headChunkStructuredMetadataBytes: 0, decompressedStructuredMetadataBytes: 0 },
    chunkRefsFetchTime: 0, congestionControlLatency: 0, pipelineWrapperFilteredLines: 0,
  };
}

function cacheStats(): Record<string, number> {
  return { entriesFound: 0, entriesRequested: 0, entriesStored: 0, bytesReceived: 0, bytesSent: 0, requests: 0, downloadTime: 0, queryLengthServed: 0 };
}

export function encodeStats(s: QueryStats): Record<string, unknown> {
  const execS = s.execTimeMs / 1000;
  const querierStore = storeStats();
  (querierStore.chunk as Record<string, number>).decompressedBytes = s.bytesScanned;
  (querierStore.chunk as Record<string, number>).decompressedLines = s.entriesScanned;
  (querierStore.chunk as Record<string, number>).postFilterLines = s.entriesReturned;
  querierStore.totalChunksRef = s.chunksRead;
  querierStore.totalChunksDownloaded = s.chunksRead;
  return {
    summary: {
      bytesProcessedPerSecond: execS > 0 ? Math.floor(s.bytesScanned / execS) : 0,
      linesProcessedPerSecond: execS > 0 ? Math.floor(s.entriesScanned / execS) : 0,
      totalBytesProcessed: s.bytesScanned,
      totalLinesProcessed: s.entriesScanned,
      execTime: execS,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: s.entriesReturned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: s.entriesReturned,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: { store: querierStore },
    ingester: { totalReached: 0, totalChunksMatched: 0, totalBatches: 0, totalLinesSent: 0, store: storeStats() },
    cache: {
      chunk: cacheStats(), index: cacheStats(), result: cacheStats(), statsResult: cacheStats(), volumeResult: cacheStats(),
      seriesResult: cacheStats(), labelResult: cacheStats(), instantMetricResult: cacheStats(),
    },
    index: { totalChunks: 0, postFilterChunks: 0, shardsDuration: 0, usedBloomFilters: false },
  };
}
