// Bramble's native scan kernels (N-API's C API, plus one V8 call N-API lacks; no other dependency): LZ4 block decoding in
// lz4-napi's format, marking the lines of a block that contain any of several literals, and
// building a block's trigram bloom filter; LZ4 block compression (fast and hash-chain); on the ingest path, snappy block decoding of push bodies;
// copying a batch of line byte ranges into an open block; the logfmt step of level detection;
// the common shape of a push's stream messages (protobuf);
// glibc's malloc_trim, so the server can hand freed heap pages back to the OS; releasing the
// pages of pooled buffers; page-aligned memory for the write-ahead log's O_DIRECT writes; and
// asking V8 for an incremental full collection. src/native/index.ts
// loads this addon when it was built and otherwise uses TypeScript implementations with identical results.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include <v8.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <vector>
#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif
// 16-byte table lookups for levelScan's byte classes: SSSE3's pshufb on x86-64 (chosen at run
// time; every x86-64 CPU since 2006 has it) or NEON's tbl (every arm64). Other targets, and x86
// CPUs without SSSE3, run the scalar passes.
#if defined(__x86_64__) && defined(__GNUC__)
#include <tmmintrin.h>
#define BRAMBLE_LS_VEC 1
#define LS_TARGET __attribute__((target("ssse3")))
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define BRAMBLE_LS_VEC 1
#define LS_TARGET
#endif

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, nullptr, "bramble_native: N-API call failed"); \
      return nullptr;                                                      \
    }                                                                      \
  } while (0)

static bool typed_bytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return false;
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &off) != napi_ok) return false;
  size_t elem = 1;
  if (type == napi_uint32_array || type == napi_int32_array || type == napi_float32_array) elem = 4;
  else if (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array) elem = 8;
  else if (type == napi_uint16_array || type == napi_int16_array) elem = 2;
  *data = static_cast<uint8_t*>(ptr);
  *len = length * elem;
  return true;
}

// Raw LZ4 block decoding with full bounds checks. Returns bytes written or -1.
static long lz4_decode_raw(const uint8_t* src, size_t srcLen, uint8_t* dst, size_t dstLen) {
  const uint8_t* ip = src;
  const uint8_t* const iend = src + srcLen;
  uint8_t* op = dst;
  uint8_t* const oend = dst + dstLen;
  if (srcLen == 0) return dstLen == 0 ? 0 : -1;
  for (;;) {
    if (ip >= iend) return -1;
    unsigned token = *ip++;
    size_t lit = token >> 4;
    if (lit == 15) {
      unsigned b;
      do {
        if (ip >= iend) return -1;
        b = *ip++;
        lit += b;
      } while (b == 255);
    }
    if ((size_t)(iend - ip) < lit || (size_t)(oend - op) < lit) return -1;
    memcpy(op, ip, lit);
    ip += lit;
    op += lit;
    if (ip == iend) break;  // last sequence: literals only
    if (iend - ip < 2) return -1;
    size_t offset = (size_t)ip[0] | ((size_t)ip[1] << 8);
    ip += 2;
    if (offset == 0 || offset > (size_t)(op - dst)) return -1;
    size_t mlen = token & 15;
    if (mlen == 15) {
      unsigned b;
      do {
        if (ip >= iend) return -1;
        b = *ip++;
        mlen += b;
      } while (b == 255);
    }
    mlen += 4;
    if ((size_t)(oend - op) < mlen) return -1;
    const uint8_t* match = op - offset;
    if (offset >= mlen) {
      memcpy(op, match, mlen);
      op += mlen;
    } else {
      for (size_t i = 0; i < mlen; i++) *op++ = *match++;  // overlapping copy
    }
  }
  return (long)(op - dst);
}

static void free_buffer(napi_env, void* data, void*) { free(data); }

// lz4Decode(src: Uint8Array, expected: number, dst?: Uint8Array): Buffer | undefined
// With dst (at least `expected` bytes), decodes into dst[0..expected) and returns undefined: the
// scan workers reuse one buffer per section instead of allocating (and later freeing) 256 KiB
// per block, which keeps the allocator's arenas from growing.
static napi_value Lz4Decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* src;
  size_t srcLen;
  if (argc < 2 || !typed_bytes(env, argv[0], &src, &srcLen)) {
    napi_throw_type_error(env, nullptr, "lz4Decode(src: Uint8Array, expected: number)");
    return nullptr;
  }
  double expectedD;
  CHECK(napi_get_value_double(env, argv[1], &expectedD));
  size_t expected = (size_t)expectedD;
  if (srcLen < 4) {
    napi_throw_error(env, nullptr, "LZ4 section is shorter than its size prefix");
    return nullptr;
  }
  size_t declared = (size_t)src[0] | ((size_t)src[1] << 8) | ((size_t)src[2] << 16) | ((size_t)src[3] << 24);
  if (declared != expected) {
    napi_throw_error(env, nullptr, "LZ4 section size prefix does not match the block header");
    return nullptr;
  }
  if (argc >= 3) {
    uint8_t* dst;
    size_t dstLen;
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[2], &t));
    if (t != napi_undefined) {
      if (!typed_bytes(env, argv[2], &dst, &dstLen) || dstLen < expected) {
        napi_throw_type_error(env, nullptr, "lz4Decode: dst must be a Uint8Array of at least `expected` bytes");
        return nullptr;
      }
      long got = lz4_decode_raw(src + 4, srcLen - 4, dst, expected);
      if (got < 0 || (size_t)got != expected) {
        napi_throw_error(env, nullptr, "corrupt LZ4 section");
        return nullptr;
      }
      return nullptr;
    }
  }
  uint8_t* out = static_cast<uint8_t*>(malloc(expected > 0 ? expected : 1));
  if (!out) {
    napi_throw_error(env, nullptr, "out of memory");
    return nullptr;
  }
  long got = lz4_decode_raw(src + 4, srcLen - 4, out, expected);
  if (got < 0 || (size_t)got != expected) {
    free(out);
    napi_throw_error(env, nullptr, "corrupt LZ4 section");
    return nullptr;
  }
  napi_value result;
  if (napi_create_external_buffer(env, expected, out, free_buffer, nullptr, &result) != napi_ok) {
    // external buffers may be disallowed (sandboxed runtimes): copy instead
    void* copy;
    napi_status st = napi_create_buffer_copy(env, expected, out, &copy, &result);
    free(out);
    if (st != napi_ok) {
      napi_throw_error(env, nullptr, "cannot allocate a Buffer");
      return nullptr;
    }
  }
  return result;
}

// filterLines(lines, off: Uint32Array, n, needles: Uint8Array[], mask: Uint8Array, keep): number
static napi_value FilterLines(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *lines, *offB, *mask;
  size_t linesLen, offLen, maskLen;
  if (argc < 6 || !typed_bytes(env, argv[0], &lines, &linesLen) || !typed_bytes(env, argv[1], &offB, &offLen) ||
      !typed_bytes(env, argv[4], &mask, &maskLen)) {
    napi_throw_type_error(env, nullptr, "filterLines(lines, off, n, needles, mask, keep)");
    return nullptr;
  }
  uint32_t n;
  CHECK(napi_get_value_uint32(env, argv[2], &n));
  bool keep;
  CHECK(napi_get_value_bool(env, argv[5], &keep));
  const uint32_t* off = reinterpret_cast<const uint32_t*>(offB);
  if (offLen / 4 < (size_t)n + 1 || maskLen < n || off[n] > linesLen) {
    napi_throw_range_error(env, nullptr, "filterLines: offsets or mask do not fit the block");
    return nullptr;
  }
  uint32_t count;
  CHECK(napi_get_array_length(env, argv[3], &count));
  std::vector<uint8_t> hit(n, 0);
  const uint8_t* end = lines + off[n];
  for (uint32_t k = 0; k < count; k++) {
    napi_value nv;
    CHECK(napi_get_element(env, argv[3], k, &nv));
    uint8_t* nd;
    size_t ndLen;
    if (!typed_bytes(env, nv, &nd, &ndLen)) {
      napi_throw_type_error(env, nullptr, "filterLines: needles must be Uint8Arrays");
      return nullptr;
    }
    if (ndLen == 0) {
      std::fill(hit.begin(), hit.end(), 1);
      break;
    }
    const uint8_t* from = lines + off[0];
    uint32_t e = 0;
    while (from < end) {
      const uint8_t* p = static_cast<const uint8_t*>(memmem(from, end - from, nd, ndLen));
      if (!p) break;
      uint32_t pos = (uint32_t)(p - lines);
      // largest e with off[e] <= pos (positions only grow: walk forward)
      uint32_t lo = e, hi = n - 1;
      while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (off[mid] <= pos) lo = mid;
        else hi = mid - 1;
      }
      e = lo;
      if (pos + ndLen <= off[e + 1]) {
        hit[e] = 1;
        from = lines + off[e + 1];
      } else {
        from = p + 1;
      }
    }
  }
  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (mask[i] == 0) continue;
    uint8_t v = keep ? hit[i] : (uint8_t)(hit[i] ^ 1);
    mask[i] = v;
    kept += v;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, kept, &result));
  return result;
}

static inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Sets the bloom bit of every trigram of lines[0..len) (len >= 3) in two steps per 256 positions:
// the hashes (independent per position, so the compiler vectorises them where it may), then the
// bit stores. The AVX2 copy is the same code compiled for AVX2 (8 hashes per instruction), chosen
// at run time; both set exactly the bits of the one-position-at-a-time loop.
// The bits first go to a byte map (one byte per bit, all 0 between calls): a plain byte store
// per trigram instead of a read-modify-write of a word, which the out-of-order core overlaps
// much better; bloom_pack then ORs the map into the filter 8 bytes at a time and clears it.
#define BLOOM_SET_BODY(STORE)                                                                    \
  uint32_t h[256];                                                                               \
  for (size_t base = 2; base < len; base += 256) {                                               \
    size_t m = len - base < 256 ? len - base : 256;                                              \
    const uint8_t* p = lines + base;                                                             \
    for (size_t j = 0; j < m; j++) {                                                             \
      uint32_t t = (uint32_t)p[j - 2] | ((uint32_t)p[j - 1] << 8) | ((uint32_t)p[j] << 16);     \
      t ^= t >> 16;                                                                              \
      t *= 0x85ebca6bu;                                                                          \
      t ^= t >> 13;                                                                              \
      t *= 0xc2b2ae35u;                                                                          \
      t ^= t >> 16;                                                                              \
      h[j] = t & mask;                                                                           \
    }                                                                                            \
    for (size_t j = 0; j < m; j++) STORE;                                                        \
  }

static void bloom_set(const uint8_t* lines, size_t len, uint8_t* map, uint32_t mask) { BLOOM_SET_BODY(map[h[j]] = 1) }
static void bloom_set_bits(const uint8_t* lines, size_t len, uint32_t* scratch, uint32_t mask) {
  BLOOM_SET_BODY(scratch[h[j] >> 5] |= 1u << (h[j] & 31))
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void bloom_set_avx2(const uint8_t* lines, size_t len, uint8_t* map, uint32_t mask) {
  BLOOM_SET_BODY(map[h[j]] = 1)
}
__attribute__((target("avx2"))) static void bloom_set_bits_avx2(const uint8_t* lines, size_t len, uint32_t* scratch, uint32_t mask) {
  BLOOM_SET_BODY(scratch[h[j] >> 5] |= 1u << (h[j] & 31))
}
#endif

static inline uint32_t popcount32(uint32_t v) {  // SWAR: no libgcc call without -mpopcnt
  v = v - ((v >> 1) & 0x55555555u);
  v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
  return (((v + (v >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

// ORs the byte map (bits bytes of 0 or 1) into the filter's words, zeroes it again and returns
// the bits newly set. Eight 0/1 bytes x (byte k = bit k) pack as (x * 0x0102040810204080) >> 56:
// the product's top byte is the sum of byte k shifted to bit k, without carries.
static uint32_t bloom_pack(uint8_t* map, uint32_t* scratch, size_t words) {
  uint32_t added = 0;
  for (size_t w = 0; w < words; w++) {
    uint8_t* m = map + 32 * w;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      uint64_t x;
      memcpy(&x, m + 8 * k, 8);
      v |= (uint32_t)((x * 0x0102040810204080ull) >> 56) << (8 * k);
    }
    memset(m, 0, 32);
    added += popcount32(v & ~scratch[w]);
    scratch[w] |= v;
  }
  return added;
}

// The byte map of this thread (grown to the largest filter seen; scan workers are threads)
struct BloomMap {
  uint8_t* p = nullptr;
  size_t len = 0;
  ~BloomMap() { free(p); }
};
static thread_local BloomMap bloom_map;

// Sets the trigram bits of `lines` in the filter `scratch` (scratchLen bytes, a power-of-two
// number of bits); returns the bits newly set, or -1 when the byte map cannot be allocated.
// Any thread: the byte map is the calling thread's.
static int64_t bloom_build(const uint8_t* lines, size_t len, uint32_t* scratch, size_t scratchLen) {
  size_t bits = (scratchLen / 4) * 32;
  uint32_t added = 0;
  if (len < 3 || bits < 32 || (bits & (bits - 1)) != 0) return 0;
  size_t words = bits / 32;
  uint32_t mask = (uint32_t)(bits - 1);
#if defined(__x86_64__) && defined(__GNUC__)
  const bool avx2 = __builtin_cpu_supports("avx2");
#else
  const bool avx2 = false;
  (void)avx2;
#endif
  BloomMap& bm = bloom_map;
  if (bits > ((size_t)1 << 22)) {
    // a filter larger than the index's (more than 512 KiB): set its bits in place
    uint32_t before = 0, after = 0;
    for (size_t w = 0; w < words; w++) before += popcount32(scratch[w]);
#if defined(__x86_64__) && defined(__GNUC__)
    if (avx2) bloom_set_bits_avx2(lines, len, scratch, mask);
    else
#endif
      bloom_set_bits(lines, len, scratch, mask);
    for (size_t w = 0; w < words; w++) after += popcount32(scratch[w]);
    return after - before;
  }
  if (bm.len < bits) {
    uint8_t* m = static_cast<uint8_t*>(calloc(bits, 1));
    if (!m) return -1;
    free(bm.p);
    bm.p = m;
    bm.len = bits;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  if (avx2) bloom_set_avx2(lines, len, bm.p, mask);
  else
#endif
    bloom_set(lines, len, bm.p, mask);
  added = bloom_pack(bm.p, scratch, words);
  return added;
}

// trigramBloomBuild(lines: Uint8Array, scratch: Uint32Array): number (bits newly set)
static napi_value TrigramBloomBuild(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *lines, *scratchB;
  size_t len, scratchLen;
  if (argc < 2 || !typed_bytes(env, argv[0], &lines, &len) || !typed_bytes(env, argv[1], &scratchB, &scratchLen)) {
    napi_throw_type_error(env, nullptr, "trigramBloomBuild(lines, scratch)");
    return nullptr;
  }
  int64_t added = bloom_build(lines, len, reinterpret_cast<uint32_t*>(scratchB), scratchLen);
  if (added < 0) {
    napi_throw_error(env, nullptr, "out of memory");
    return nullptr;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, (uint32_t)added, &result));
  return result;
}

// Snappy block decoding (the body of a protobuf push) with full bounds checks, from src[s..] into
// dst; returns bytes written or -1 on corrupt input. Mirrors snappyUncompress in
// src/push/protobuf.ts, which checks the declared length before calling this.
//
// Most elements take a fast path without a branch on the element's kind: while at least 33
// input bytes and 64 output bytes remain, a literal of at most 16 bytes and a copy (1- or 2-byte
// offset) of at most 64 bytes with an offset from 16 to the bytes written so far are both "move
// 32 bytes from `from`" (the literal's bytes or the output `offset` back, in 16-byte moves that
// each read only bytes written before it; a copy longer than 32 moves 32 more), with the length, the
// element's size and the offset's bytes from a table of the 256 tags. Everything else (longer
// literals, 4-byte offsets, offsets below 16 or past the start, the last bytes of either buffer)
// takes the general path below, which decides corrupt input; the fast path only takes elements
// that path accepts and writes the same bytes (its 16-byte moves may write past the element,
// inside dst; later elements overwrite those bytes).
struct SnappyTag {
  uint8_t len;       // bytes the element writes (literal: up to 60; copies: 1..64)
  uint8_t size;      // input bytes of the element (literal: tag + its bytes)
  uint8_t fast;      // 1: literal of at most 16 bytes (1-byte tag), or a 1- or 2-byte-offset copy
  uint8_t literal;   // 1: literal
  uint16_t offMask;  // offset = (next 2 input bytes, LE) & offMask | offHigh
  uint16_t offHigh;
};

static const SnappyTag* snappy_tags() {
  static const struct Table {
    SnappyTag t[256];
    Table() {
      for (int tag = 0; tag < 256; tag++) {
        SnappyTag& e = t[tag];
        switch (tag & 3) {
          case 0:
            e.len = (uint8_t)((tag >> 2) + 1);
            e.size = (uint8_t)(1 + e.len);
            e.fast = (tag >> 2) < 16;
            e.literal = 1;
            e.offMask = 0;
            e.offHigh = 0;
            break;
          case 1:
            e.len = (uint8_t)(4 + ((tag >> 2) & 7));
            e.size = 2;
            e.fast = 1;
            e.literal = 0;
            e.offMask = 0xff;
            e.offHigh = (uint16_t)((tag & 0xe0) << 3);
            break;
          case 2:
            e.len = (uint8_t)((tag >> 2) + 1);
            e.size = 3;
            e.fast = 1;
            e.literal = 0;
            e.offMask = 0xffff;
            e.offHigh = 0;
            break;
          default:
            e.len = (uint8_t)((tag >> 2) + 1);
            e.size = 5;
            e.fast = 0;
            e.literal = 0;
            e.offMask = 0;
            e.offHigh = 0;
            break;
        }
      }
    }
  } table;
  return table.t;
}

static long snappy_decode_raw(const uint8_t* src, size_t n, size_t s, uint8_t* dst, size_t dstLen) {
  size_t d = 0;
  const SnappyTag* tags = snappy_tags();
  while (s < n) {
    if (n - s >= 33 && dstLen - d >= 64) {
      const SnappyTag e = tags[src[s]];
      size_t offset = (((size_t)src[s + 1] | ((size_t)src[s + 2] << 8)) & e.offMask) | e.offHigh;
      size_t length = e.len;
      // a copy's offset must be within [16, d]; a literal's is 0 and not used (bitwise & and |:
      // no branch on the element's kind, which is not predictable)
      bool copyOk = (offset >= 16) & (offset <= d);
      if (e.fast & (e.literal | copyOk)) {
        uint8_t* op = dst + d;
        uintptr_t lit = (uintptr_t)(src + s + 1), back = (uintptr_t)(op - offset), m = (uintptr_t)0 - e.literal;
        const uint8_t* from = reinterpret_cast<const uint8_t*>((lit & m) | (back & ~m));
        memcpy(op, from, 16);
        memcpy(op + 16, from + 16, 16);
        if (length > 32) {
          memcpy(op + 32, from + 32, 16);
          memcpy(op + 48, from + 48, 16);
        }
        d += length;
        s += e.size;
        continue;
      }
    }
    uint8_t tag = src[s];
    size_t length, offset;
    switch (tag & 3) {
      case 0: {
        size_t x = tag >> 2;
        if (x < 60) {
          s++;
        } else {
          size_t extra = x - 59;
          if (s + extra >= n) return -1;
          x = 0;
          for (size_t k = extra; k >= 1; k--) x = x * 256 + src[s + k];
          s += extra + 1;
        }
        length = x + 1;
        if (length > dstLen - d || length > n - s) return -1;
        if (length <= 16 && dstLen - d >= 16 && n - s >= 16) {
          memcpy(dst + d, src + s, 16);  // fixed-size copy: one unaligned 16-byte move, in bounds
        } else if (length <= 64 && dstLen - d >= 64 && n - s >= 64) {
          // up to four 16-byte moves (may write past the literal, inside dst: later bytes overwrite)
          for (size_t k = 0; k < length; k += 16) memcpy(dst + d + k, src + s + k, 16);
        } else {
          memcpy(dst + d, src + s, length);
        }
        d += length;
        s += length;
        continue;
      }
      case 1:
        if (s + 2 > n) return -1;
        length = 4 + ((tag >> 2) & 7);
        offset = ((size_t)(tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        break;
      case 2:
        if (s + 3 > n) return -1;
        length = 1 + (tag >> 2);
        offset = (size_t)src[s + 1] | ((size_t)src[s + 2] << 8);
        s += 3;
        break;
      default:
        if (s + 5 > n) return -1;
        length = 1 + (tag >> 2);
        offset = (size_t)src[s + 1] | ((size_t)src[s + 2] << 8) | ((size_t)src[s + 3] << 16) | ((size_t)src[s + 4] << 24);
        s += 5;
        break;
    }
    if (offset == 0 || d < offset || length > dstLen - d) return -1;
    uint8_t* op = dst + d;
    const uint8_t* from = op - offset;
    if (offset >= 8 && length <= 16 && dstLen - d >= 16) {
      // fixed-size 8-byte moves (each reads bytes already written), in bounds of dst
      memcpy(op, from, 8);
      memcpy(op + 8, from + 8, 8);
    } else if (offset >= 16 && length <= 64 && dstLen - d >= 64) {
      // 16-byte moves: each reads only bytes written before it (offset >= 16), in bounds of dst
      for (size_t k = 0; k < length; k += 16) memcpy(op + k, from + k, 16);
    } else if (offset >= length) {
      memcpy(op, from, length);
    } else {
      for (size_t i = 0; i < length; i++) op[i] = from[i];  // overlapping: forward byte copy
    }
    d += length;
  }
  return (long)d;
}

// snappyDecodeInto(src: Uint8Array, start: number, dst: Uint8Array): number (bytes written, -1 = corrupt)
static napi_value SnappyDecodeInto(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *src, *dst;
  size_t srcLen, dstLen;
  double startD;
  if (argc < 3 || !typed_bytes(env, argv[0], &src, &srcLen) || !typed_bytes(env, argv[2], &dst, &dstLen) ||
      napi_get_value_double(env, argv[1], &startD) != napi_ok) {
    napi_throw_type_error(env, nullptr, "snappyDecodeInto(src: Uint8Array, start: number, dst: Uint8Array)");
    return nullptr;
  }
  long got = snappy_decode_raw(src, srcLen, (size_t)startD, dst, dstLen);
  napi_value result;
  CHECK(napi_create_double(env, (double)got, &result));
  return result;
}

// levelScan(buf, ranges: Int32Array [start0, end0, start1, end1...], n, cls: Uint8Array(256),
//           rightBoundary: Uint8Array(256), words: Uint8Array, wordOff: Int32Array, out: Int32Array)
// The keyword pass of detected_level detection (src/push/detect.ts, levelScanTs is the same loop
// in TypeScript) for n lines of one buffer. out[i] = -1 when the line must take the string path
// (a non-ASCII byte, or '{' first after whitespace), else (k + 1) | (hasEq << 8) where k is the
// first level word found at a left boundary (words in priority order; k + 1 = 0: none) and hasEq
// says whether the line has '=' (logfmt is tried first then).
static const uint8_t C_WORD = 1, C_LB = 2, C_EQ = 4, C_HIGH = 8;

// The first level word (priority order) at b[i] followed by a right boundary, or -1.
static inline int32_t level_word_at(const uint8_t* b, size_t i, size_t end, const uint8_t* words, const int32_t* wordOff,
                                    size_t nWords, const uint8_t* rb) {
  uint8_t lc = b[i] | 0x20;
  for (size_t w = 0; w < nWords; w++) {
    const uint8_t* wp = words + wordOff[w];
    size_t wl = (size_t)(wordOff[w + 1] - wordOff[w]);
    if (wl == 0 || wp[0] != lc || i + wl > end) continue;
    size_t q = 1;
    while (q < wl && (uint8_t)(b[i + q] | 0x20) == wp[q]) q++;
    if (q < wl) continue;
    if (i + wl >= end || rb[b[i + wl]]) return (int32_t)w;
  }
  return -1;
}

// What levelScan derives from its tables once (cached per thread: detect.ts passes the same
// ones every call, and single lines are scanned one call each): whether the table is detect.ts's
// (standard), and for the vector pass the byte sets as nibble tables: an ASCII byte c is in a
// set when lo[c & 15] & hi[c >> 4] != 0 with hi[h] = 1 << h (h < 8), so any set of ASCII bytes
// fits; bytes >= 0x80 are in none (their lines are answered -1 anyway). The "word" set holds
// the bytes that both have C_WORD and start a level word (others never find one); byFirst[c] is
// the level words (bit w) that start with c | 0x20, as level_word_at tries them.
struct LevelPlan {
  bool standard, vec;
  uint8_t hiT[16], loLb[16], loWord[16];
  uint32_t byFirst[256];
};

struct LevelPlanCache {
  bool valid = false;
  uint8_t cls[256];
  size_t wordsLen = 0, nWords = 0;
  uint8_t words[256];
  int32_t wordOff[33];
  LevelPlan plan;
};
static thread_local LevelPlanCache level_cache;

static void level_plan(const uint8_t* cls, const uint8_t* words, size_t wordsLen, const int32_t* wordOff, size_t nWords,
                       LevelPlan* p) {
  // detect.ts's table: C_HIGH exactly on bytes >= 0x80, C_EQ exactly on '=', neither on a C_WORD byte
  p->standard = true;
  for (int c = 0; c < 256; c++) {
    uint8_t k = cls[c];
    bool hi = (k & C_HIGH) != 0 && (k & C_WORD) == 0, eq = (k & C_EQ) != 0 && (k & C_WORD) == 0 && (k & C_HIGH) == 0;
    if (hi != (c >= 0x80) || eq != (c == '=')) { p->standard = false; break; }
  }
  p->vec = false;
#if defined(BRAMBLE_LS_VEC)
  if (!p->standard || nWords > 32) return;
  for (size_t w = 0; w < nWords; w++)
    if (wordOff[w] < 0 || wordOff[w] > wordOff[w + 1] || (size_t)wordOff[w + 1] > wordsLen) return;
  memset(p->byFirst, 0, sizeof p->byFirst);
  for (int c = 0; c < 256; c++) {
    for (size_t w = 0; w < nWords; w++)
      if (wordOff[w + 1] > wordOff[w] && words[wordOff[w]] == (uint8_t)(c | 0x20)) p->byFirst[c] |= 1u << w;
  }
  memset(p->loLb, 0, 16);
  memset(p->loWord, 0, 16);
  for (int h = 0; h < 16; h++) p->hiT[h] = h < 8 ? (uint8_t)(1u << h) : 0;
  for (int c = 0; c < 0x80; c++) {
    if (cls[c] & C_LB) p->loLb[c & 15] |= (uint8_t)(1u << (c >> 4));
    if ((cls[c] & C_WORD) && p->byFirst[c]) p->loWord[c & 15] |= (uint8_t)(1u << (c >> 4));
  }
#if defined(__x86_64__)
  p->vec = __builtin_cpu_supports("ssse3");
#else
  p->vec = true;
#endif
#else
  (void)words; (void)wordsLen; (void)wordOff; (void)nWords;
#endif
}

static const LevelPlan& level_plan_cached(const uint8_t* cls, const uint8_t* words, size_t wordsLen, const int32_t* wordOff,
                                          size_t nWords, LevelPlan* local) {
  LevelPlanCache& c = level_cache;
  if (wordsLen > sizeof c.words || nWords > 32) {
    level_plan(cls, words, wordsLen, wordOff, nWords, local);
    return *local;
  }
  if (c.valid && c.wordsLen == wordsLen && c.nWords == nWords && memcmp(c.cls, cls, 256) == 0 &&
      memcmp(c.words, words, wordsLen) == 0 && memcmp(c.wordOff, wordOff, 4 * (nWords + 1)) == 0)
    return c.plan;
  c.valid = false;
  memcpy(c.cls, cls, 256);
  memcpy(c.words, words, wordsLen);
  memcpy(c.wordOff, wordOff, 4 * (nWords + 1));
  c.wordsLen = wordsLen;
  c.nWords = nWords;
  level_plan(cls, words, wordsLen, wordOff, nWords, &c.plan);
  c.valid = true;
  return c.plan;
}

#if defined(BRAMBLE_LS_VEC)
// Byte masks of a 16-byte vector as integers with LS_BITS bits per byte (byte k at bit
// k * LS_BITS, only that bit set): SSE2's movemask (1 bit), NEON's shift-right-narrow (4 bits
// per byte, masked to the lowest).
#if defined(__x86_64__)
typedef __m128i v16;
static const unsigned LS_BITS = 1;
LS_TARGET static inline v16 v16_load(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
LS_TARGET static inline uint64_t v16_high(v16 v) { return (uint32_t)_mm_movemask_epi8(v); }  // bytes >= 0x80
LS_TARGET static inline uint64_t v16_eqc(v16 v, v16 c) { return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)); }
LS_TARGET static inline v16 v16_splat(uint8_t c) { return _mm_set1_epi8((char)c); }
// bytes of v in the set of nibble table lo (with hi = 1 << high nibble)
LS_TARGET static inline uint64_t v16_in(v16 lo, v16 H, v16 loT) {
  v16 x = _mm_and_si128(_mm_shuffle_epi8(loT, lo), H);
  return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) ^ 0xffffu;
}
LS_TARGET static inline void v16_nibbles(v16 v, v16 hiT, v16* lo, v16* H) {
  const v16 m = _mm_set1_epi8(0x0f);
  *lo = _mm_and_si128(v, m);
  *H = _mm_shuffle_epi8(hiT, _mm_and_si128(_mm_srli_epi16(v, 4), m));
}
#else
typedef uint8x16_t v16;
static const unsigned LS_BITS = 4;
static inline v16 v16_load(const uint8_t* p) { return vld1q_u8(p); }
static inline uint64_t v16_bits(v16 m) {
  return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0) & 0x1111111111111111ull;
}
static inline uint64_t v16_high(v16 v) { return v16_bits(vcltzq_s8(vreinterpretq_s8_u8(v))); }
static inline uint64_t v16_eqc(v16 v, v16 c) { return v16_bits(vceqq_u8(v, c)); }
static inline v16 v16_splat(uint8_t c) { return vdupq_n_u8(c); }
static inline uint64_t v16_in(v16 lo, v16 H, v16 loT) { return v16_bits(vtstq_u8(vqtbl1q_u8(loT, lo), H)); }
static inline void v16_nibbles(v16 v, v16 hiT, v16* lo, v16* H) {
  *lo = vandq_u8(v, vdupq_n_u8(0x0f));
  *H = vqtbl1q_u8(hiT, vshrq_n_u8(v, 4));
}
#endif

// levelScan over n lines with detect.ts's table, 16 bytes per step: a non-ASCII byte ends a
// line (-1); else '=' anywhere, and the level words are tried only where a byte that starts one
// follows a left boundary (or starts the line), in line order, until one is found: the answer of
// the scalar passes. A line's last partial step reads 16 bytes from its position: inside the
// buffer the bytes past the line are masked off; at the buffer's end the rest of the line is
// copied to a zeroed vector instead. false (some lines done) when a range is outside the buffer.
LS_TARGET static bool level_scan_vec(const uint8_t* b, size_t bLen, const int32_t* ranges, size_t n, const LevelPlan& p,
                                     const uint8_t* words, const int32_t* wordOff, const uint8_t* rb, int32_t* out) {
  const v16 hiT = v16_load(p.hiT), loLb = v16_load(p.loLb), loWord = v16_load(p.loWord), eqv = v16_splat('=');
  uint8_t tmp[16];
  for (size_t e = 0; e < n; e++) {
    int32_t s0 = ranges[2 * e], e0 = ranges[2 * e + 1];
    if (s0 < 0 || e0 < s0 || (size_t)e0 > bLen) return false;
    size_t start = (size_t)s0, end = (size_t)e0, i = start;
    while (i < end && (b[i] == 32 || (b[i] >= 9 && b[i] <= 13))) i++;
    if (i < end && b[i] == 123) { out[e] = -1; continue; }
    uint64_t eqAny = 0, carry = 1;  // a left boundary before the first byte
    int32_t found = -1;
    bool high = false;
    for (i = start; i < end; i += 16) {
      size_t r = end - i;
      uint64_t valid = ~0ull;
      v16 v;
      if (r >= 16) {
        v = v16_load(b + i);
      } else {
        valid = ((uint64_t)1 << (r * LS_BITS)) - 1;
        if (bLen - i >= 16) {
          v = v16_load(b + i);
        } else {
          memset(tmp, 0, 16);
          memcpy(tmp, b + i, r);
          v = v16_load(tmp);
        }
      }
      if (v16_high(v) & valid) { high = true; break; }
      eqAny |= v16_eqc(v, eqv) & valid;
      if (found >= 0) continue;
      v16 lo, H;
      v16_nibbles(v, hiT, &lo, &H);
      uint64_t lbBits = v16_in(lo, H, loLb);
      uint64_t cand = v16_in(lo, H, loWord) & ((lbBits << LS_BITS) | carry) & valid;
      carry = lbBits >> (15 * LS_BITS);
      while (cand) {
        size_t pos = i + (size_t)__builtin_ctzll(cand) / LS_BITS;
        // level_word_at over the words that start with this letter
        for (uint32_t ws = p.byFirst[b[pos]]; ws; ws &= ws - 1) {
          unsigned w = (unsigned)__builtin_ctz(ws);
          const uint8_t* wp = words + wordOff[w];
          size_t wl = (size_t)(wordOff[w + 1] - wordOff[w]);
          if (pos + wl > end) continue;
          size_t q = 1;
          while (q < wl && (uint8_t)(b[pos + q] | 0x20) == wp[q]) q++;
          if (q < wl) continue;
          if (pos + wl >= end || rb[b[pos + wl]]) { found = (int32_t)w; break; }
        }
        if (found >= 0) break;
        cand &= cand - 1;
      }
    }
    out[e] = high ? -1 : (found + 1) | (eqAny ? 256 : 0);
  }
  return true;
}
#endif

static napi_value LevelScan(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *b, *cls, *rb, *words, *rangesB, *offB, *outB;
  size_t bLen, clsLen, rbLen, wordsLen, rangesLen, offLen, outLen;
  double nD;
  if (argc < 8 || !typed_bytes(env, argv[0], &b, &bLen) || !typed_bytes(env, argv[1], &rangesB, &rangesLen) ||
      napi_get_value_double(env, argv[2], &nD) != napi_ok || !typed_bytes(env, argv[3], &cls, &clsLen) ||
      !typed_bytes(env, argv[4], &rb, &rbLen) || !typed_bytes(env, argv[5], &words, &wordsLen) ||
      !typed_bytes(env, argv[6], &offB, &offLen) || !typed_bytes(env, argv[7], &outB, &outLen)) {
    napi_throw_type_error(env, nullptr, "levelScan(buf, ranges, n, cls, rightBoundary, words, wordOff, out)");
    return nullptr;
  }
  size_t n = (size_t)nD;
  const int32_t* ranges = reinterpret_cast<const int32_t*>(rangesB);
  const int32_t* wordOff = reinterpret_cast<const int32_t*>(offB);
  int32_t* out = reinterpret_cast<int32_t*>(outB);
  size_t nWords = offLen / 4 >= 1 ? offLen / 4 - 1 : 0;
  if (clsLen < 256 || rbLen < 256 || rangesLen / 4 < 2 * n || outLen / 4 < n) {
    napi_throw_range_error(env, nullptr, "levelScan: arrays too short");
    return nullptr;
  }
  // detect.ts's table (C_HIGH exactly on bytes >= 0x80, C_EQ exactly on '=', neither on a
  // C_WORD byte) allows the faster passes below; any other table gets the one-pass loop
  LevelPlan local;
  const LevelPlan& plan = level_plan_cached(cls, words, wordsLen, wordOff, nWords, &local);
  bool standard = plan.standard;
#if defined(BRAMBLE_LS_VEC)
  if (plan.vec) {
    if (!level_scan_vec(b, bLen, ranges, n, plan, words, wordOff, rb, out)) {
      napi_throw_range_error(env, nullptr, "levelScan: range outside the buffer");
    }
    return nullptr;
  }
#endif
  for (size_t e = 0; e < n; e++) {
    int32_t s0 = ranges[2 * e], e0 = ranges[2 * e + 1];
    if (s0 < 0 || e0 < s0 || (size_t)e0 > bLen) {
      napi_throw_range_error(env, nullptr, "levelScan: range outside the buffer");
      return nullptr;
    }
    size_t start = (size_t)s0, end = (size_t)e0, i = start;
    while (i < end && (b[i] == 32 || (b[i] >= 9 && b[i] <= 13))) i++;
    if (i < end && b[i] == 123) { out[e] = -1; continue; }
    if (!standard) {
      // a table other than detect.ts's: the one-pass loop levelScanTs runs
      bool hasEq = false, prevLB = true, high = false;
      int32_t found = -1;
      for (i = start; i < end; i++) {
        uint8_t c = b[i];
        uint8_t k = cls[c];
        if (k != 0) {
          if (k & C_WORD) {
            if (prevLB && found < 0) found = level_word_at(b, i, end, words, wordOff, nWords, rb);
          } else if (k & C_HIGH) {
            high = true;
            break;
          } else if (k & C_EQ) {
            hasEq = true;
          }
        }
        prevLB = (k & C_LB) != 0;
      }
      out[e] = high ? -1 : (found + 1) | (hasEq ? 256 : 0);
      continue;
    }
    // Same answer as one pass that stops at a non-ASCII byte (levelScanTs), in three cheaper
    // ones: a non-ASCII byte anywhere (8 bytes per step), '=' anywhere (memchr; both only
    // matter for ASCII lines), then the level words, stopping at the first found.
    bool high = false;
    i = start;
    for (; i + 8 <= end; i += 8) {
      uint64_t w8;
      memcpy(&w8, b + i, 8);
      if (w8 & 0x8080808080808080ull) { high = true; break; }
    }
    for (; !high && i < end; i++) high = b[i] >= 0x80;
    if (high) { out[e] = -1; continue; }
    bool hasEq = end > start && memchr(b + start, '=', end - start) != nullptr;
    bool prevLB = true;
    int32_t found = -1;
    for (i = start; i < end && found < 0; i++) {
      uint8_t c = b[i];
      uint8_t k = cls[c];
      if (prevLB && (k & C_WORD)) found = level_word_at(b, i, end, words, wordOff, nWords, rb);
      prevLB = (k & C_LB) != 0;
    }
    out[e] = (found + 1) | (hasEq ? 256 : 0);
  }
  return nullptr;
}

// logfmtLevels(buf, ranges: Int32Array, n, codes: Int32Array, keys: Uint8Array, keyOff: Int32Array,
//              out: Int32Array [vs0, ve0, vs1, ve1, ...])
// The logfmt step of detected_level detection (src/push/detect.ts logfmtLevelBytes, and
// logfmtLevelsTs in src/native/index.ts is the same loop) for the lines levelScan marked as
// ASCII with '=' (codes[i] >= 0 and bit 8 set); other lines' slots are left alone. For each:
// out[2i] = -1 when no key of `keys` (lowercased, priority order) has a value, -2 when the line
// holds an escaped quoted value (the TypeScript string path must unquote it), else the value of
// the best key is buf[out[2i], out[2i+1]).
static int logfmt_level(const uint8_t* b, size_t start, size_t n, const uint8_t* keys, const int32_t* keyOff, size_t nKeys,
                        int32_t* ovs, int32_t* ove) {
  size_t pos = start, best = nKeys;
  bool have = false;
  long rvs = 0, rve = 0;
  while (pos < n) {
    while (pos < n && b[pos] <= 32) pos++;
    if (pos >= n) break;
    size_t ks = pos;
    long ke = -1, vs = -1, ve = -1;
    bool hasEqual = false, stop = false;
    while (pos < n) {
      uint8_t c = b[pos];
      if (c == 61) {
        if (pos > ks) ke = (long)pos;
        else stop = true;
        hasEqual = true;
        break;
      }
      if (c == 34) { stop = true; break; }
      if (c <= 32) { ke = (long)pos; break; }
      pos++;
    }
    if (pos >= n && !stop && !hasEqual) ke = (long)pos;
    if (stop) break;
    if (hasEqual) {
      pos++;
      if (pos < n) {
        uint8_t c = b[pos];
        if (c == 34) {
          bool esc = false, hasEsc = false;
          long closed = -1;
          for (size_t q = pos + 1; q < n; q++) {
            uint8_t d = b[q];
            if (esc) esc = false;
            else if (d == 92) { esc = true; hasEsc = true; }
            else if (d == 34) { closed = (long)q; break; }
          }
          if (closed < 0) break;
          if (hasEsc) return -2;
          if (closed > (long)pos + 1) { vs = (long)pos + 1; ve = closed; }
          pos = (size_t)closed + 1;
        } else if (c > 32) {
          size_t s0 = pos;
          bool bad = false;
          while (pos < n) {
            uint8_t d = b[pos];
            if (d == 61 || d == 34) { bad = true; break; }
            if (d <= 32) break;
            pos++;
          }
          if (bad) break;
          vs = (long)s0;
          ve = (long)pos;
        }
      }
    }
    if (ke >= 0) {
      size_t kl = (size_t)ke - ks;
      for (size_t x = 0; x < best; x++) {
        const uint8_t* h = keys + keyOff[x];
        if ((size_t)(keyOff[x + 1] - keyOff[x]) != kl) continue;
        size_t q = 0;
        for (; q < kl; q++) {
          uint8_t c = b[ks + q];
          if (c >= 65 && c <= 90) c += 32;
          if (c != h[q]) break;
        }
        if (q < kl) continue;
        have = true;
        if (vs >= 0) { rvs = vs; rve = ve; } else { rvs = ke; rve = ke; }
        best = x;
        break;
      }
      if (have && best == 0) break;
    }
  }
  if (!have) return -1;
  *ovs = (int32_t)rvs;
  *ove = (int32_t)rve;
  return 0;
}

static napi_value LogfmtLevels(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *b, *rangesB, *codesB, *keys, *keyOffB, *outB;
  size_t bLen, rangesLen, codesLen, keysLen, keyOffLen, outLen;
  double nD;
  if (argc < 7 || !typed_bytes(env, argv[0], &b, &bLen) || !typed_bytes(env, argv[1], &rangesB, &rangesLen) ||
      napi_get_value_double(env, argv[2], &nD) != napi_ok || !typed_bytes(env, argv[3], &codesB, &codesLen) ||
      !typed_bytes(env, argv[4], &keys, &keysLen) || !typed_bytes(env, argv[5], &keyOffB, &keyOffLen) ||
      !typed_bytes(env, argv[6], &outB, &outLen)) {
    napi_throw_type_error(env, nullptr, "logfmtLevels(buf, ranges, n, codes, keys, keyOff, out)");
    return nullptr;
  }
  size_t n = nD > 0 ? (size_t)nD : 0;
  const int32_t* ranges = reinterpret_cast<const int32_t*>(rangesB);
  const int32_t* codes = reinterpret_cast<const int32_t*>(codesB);
  const int32_t* keyOff = reinterpret_cast<const int32_t*>(keyOffB);
  int32_t* out = reinterpret_cast<int32_t*>(outB);
  size_t nKeys = keyOffLen / 4 >= 1 ? keyOffLen / 4 - 1 : 0;
  if (rangesLen / 4 < 2 * n || codesLen / 4 < n || outLen / 4 < 2 * n) {
    napi_throw_range_error(env, nullptr, "logfmtLevels: arrays too short");
    return nullptr;
  }
  for (size_t k = 0; k <= nKeys; k++) {
    if (keyOff[k] < 0 || (size_t)keyOff[k] > keysLen || (k > 0 && keyOff[k] < keyOff[k - 1])) {
      napi_throw_range_error(env, nullptr, "logfmtLevels: bad key offsets");
      return nullptr;
    }
  }
  for (size_t e = 0; e < n; e++) {
    int32_t code = codes[e];
    if (code < 0 || (code & 256) == 0) continue;
    int32_t s0 = ranges[2 * e], e0 = ranges[2 * e + 1];
    if (s0 < 0 || e0 < s0 || (size_t)e0 > bLen) {
      napi_throw_range_error(env, nullptr, "logfmtLevels: range outside the buffer");
      return nullptr;
    }
    int32_t vs = 0, ve = 0;
    int r = logfmt_level(b, (size_t)s0, (size_t)e0, keys, keyOff, nKeys, &vs, &ve);
    out[2 * e] = r == 0 ? vs : r;
    out[2 * e + 1] = r == 0 ? ve : 0;
  }
  return nullptr;
}

// scanStream(buf, start, end, out: Float64Array): number
// The common shape of a logproto StreamAdapter message buf[start, end) (src/push/protobuf.ts
// readStream is the reference): out[0], out[1] = the labels field's byte range (-1: none), then
// per entry out[2 + 4i ..] = timestamp ms (floored), ns below the ms, line start, line end, or
// (ms, -1, entry start, entry end) for an entry with structured metadata or parsed fields, which
// the caller reads itself. Returns the entry count, or -1 when anything is unusual (a malformed
// field, an out-of-range timestamp, an unexpected wire type, too many entries for out): the
// caller then parses the whole stream itself and raises the error texts; -2 when out is too
// short for the entries (nothing else is wrong up to there). Last occurrence of a
// repeated singular field wins, as in readStream.
struct PbCur {
  const uint8_t* b;
  size_t pos;
};

// false on EOF or a varint longer than 10 bytes (the TypeScript reader's errors)
static inline bool pb_varint(PbCur& c, size_t end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (c.pos >= end) return false;
    uint8_t x = c.b[c.pos++];
    r |= (uint64_t)(x & 0x7f) << shift;
    if (x < 0x80) {
      *v = r;
      return true;
    }
  }
  return false;
}

// a tag as readTag accepts it (wire 4 and field 0 are errors there)
static inline bool pb_tag(PbCur& c, size_t end, uint64_t* field, int* wire) {
  uint64_t key;
  if (!pb_varint(c, end, &key)) return false;
  *wire = (int)(key & 7);
  *field = key >> 3;
  // keys from 2^53 on are not exact numbers in readTag: leave those to it
  return *wire != 4 && *field > 0 && key < (1ull << 53);
}

static inline bool pb_len(PbCur& c, size_t end, size_t* post) {
  uint64_t l;
  if (!pb_varint(c, end, &l)) return false;
  if (l > 0x7fffffffffffull || c.pos + l > end) return false;
  *post = c.pos + (size_t)l;
  return true;
}

static inline bool pb_skip(PbCur& c, size_t end, int wire) {
  uint64_t v;
  size_t post;
  switch (wire) {
    case 0: return pb_varint(c, end, &v);
    case 1: if (c.pos + 8 > end) return false; c.pos += 8; return true;
    case 2: if (!pb_len(c, end, &post)) return false; c.pos = post; return true;
    case 5: if (c.pos + 4 > end) return false; c.pos += 4; return true;
    default: return false;
  }
}

static const int64_t PB_MIN_SECONDS = -62135596800LL, PB_MAX_SECONDS = 253402300800LL;

// a Timestamp message in [c.pos, end): floor ms and the ns below it; false when readTimestamp throws
static bool pb_timestamp(PbCur& c, size_t end, double* ms, double* rem) {
  int64_t sec = 0;
  int64_t nanos = 0;
  while (c.pos < end) {
    uint64_t field;
    int wire;
    if (!pb_tag(c, end, &field, &wire)) return false;
    uint64_t v;
    if (field == 1) {
      if (wire != 0 || !pb_varint(c, end, &v)) return false;
      sec = (int64_t)v;
    } else if (field == 2) {
      if (wire != 0 || !pb_varint(c, end, &v)) return false;
      nanos = (int32_t)(uint32_t)v;  // int32: the low 32 bits, as BigInt.asIntN(32, ...)
    } else if (!pb_skip(c, end, wire)) {
      return false;
    }
  }
  if (sec < PB_MIN_SECONDS || sec >= PB_MAX_SECONDS || nanos < 0 || nanos >= 1000000000) return false;
  int64_t subMs = nanos / 1000000;
  *ms = (double)(sec * 1000 + subMs);
  *rem = (double)(nanos - subMs * 1000000);
  return true;
}

static long pb_scan_stream(const uint8_t* b, size_t start, size_t end, double* out, size_t outLen) {
  PbCur c{b, start};
  size_t n = 0;
  out[0] = -1;
  out[1] = -1;
  while (c.pos < end) {
    uint64_t field;
    int wire;
    if (!pb_tag(c, end, &field, &wire)) return -1;
    if (field == 1) {
      size_t post;
      if (wire != 2 || !pb_len(c, end, &post)) return -1;
      out[0] = (double)c.pos;
      out[1] = (double)post;
      c.pos = post;
    } else if (field == 2) {
      size_t post;
      if (wire != 2 || !pb_len(c, end, &post)) return -1;
      if (2 + 4 * (n + 1) > outLen) return -2;
      double* o = out + 2 + 4 * n;
      size_t entryStart = c.pos;
      double ms = -62135596800000.0, rem = 0, ls = 0, le = 0;
      bool other = false;
      while (c.pos < post) {
        uint64_t f;
        int w;
        if (!pb_tag(c, post, &f, &w)) return -1;
        if (f == 1) {
          size_t tpost;
          if (w != 2 || !pb_len(c, post, &tpost)) return -1;
          if (!pb_timestamp(c, tpost, &ms, &rem)) return -1;
          c.pos = tpost;
        } else if (f == 2) {
          size_t lpost;
          if (w != 2 || !pb_len(c, post, &lpost)) return -1;
          ls = (double)c.pos;
          le = (double)lpost;
          c.pos = lpost;
        } else if (f == 3 || f == 4) {
          size_t mpost;
          if (w != 2 || !pb_len(c, post, &mpost)) return -1;
          other = true;  // metadata pairs: the caller decodes this entry
          c.pos = mpost;
        } else if (!pb_skip(c, post, w)) {
          return -1;
        }
      }
      if (other) {
        o[0] = ms;
        o[1] = -1;
        o[2] = (double)entryStart;
        o[3] = (double)post;
      } else {
        o[0] = ms;
        o[1] = rem;
        o[2] = ls;
        o[3] = le;
      }
      n++;
      c.pos = post;
    } else if (field == 3) {
      uint64_t v;
      if (wire != 0 || !pb_varint(c, end, &v)) return -1;
    } else if (!pb_skip(c, end, wire)) {
      return -1;
    }
  }
  return (long)n;
}

static napi_value ScanStream(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *b, *outB;
  size_t bLen, outLen;
  double startD, endD;
  if (argc < 4 || !typed_bytes(env, argv[0], &b, &bLen) || napi_get_value_double(env, argv[1], &startD) != napi_ok ||
      napi_get_value_double(env, argv[2], &endD) != napi_ok || !typed_bytes(env, argv[3], &outB, &outLen)) {
    napi_throw_type_error(env, nullptr, "scanStream(buf, start, end, out: Float64Array)");
    return nullptr;
  }
  napi_value result;
  long r = -1;
  if (startD >= 0 && endD >= startD && endD <= (double)bLen && outLen / 8 >= 2) {
    r = pb_scan_stream(b, (size_t)startD, (size_t)endD, reinterpret_cast<double*>(outB), outLen / 8);
  }
  CHECK(napi_create_double(env, (double)r, &result));
  return result;
}

// ---------------------------------------------------------------------------------------------
// LZ4 block compression (the format lz4Decode reads: u32-LE size prefix + raw LZ4 block).
// depth 1 is LZ4's fast algorithm (lz4_compress_fast: one hash probe, skipping faster through
// incompressible input); depth > 1 follows a 64 KiB hash chain up to `depth` candidates and keeps
// the longest match ("HC"-style, for chunks rewritten at compaction: slower to write, same decode
// speed). Output honours the block format's end rules (last 5 bytes literals, no match starting
// in the last 12), so any LZ4 decoder accepts it.
// Hash table of the chain search: 65536 entries; only as many entries as the input can fill are
// used and cleared, so the small meta and metadata sections cost little.
static const int LZ4_HASH_BITS_MAX = 16;
static thread_local int32_t lz4_head[1 << LZ4_HASH_BITS_MAX];
static thread_local uint16_t lz4_chain[1 << 16];

static inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint32_t lz4_hash(uint32_t v, int bits) { return (v * 2654435761u) >> (32 - bits); }

static inline size_t lz4_count(const uint8_t* a, const uint8_t* b, const uint8_t* bend) {
  const uint8_t* start = b;
  while (b + 8 <= bend) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    uint64_t d = x ^ y;
    if (d) return (size_t)(b - start) + (__builtin_ctzll(d) >> 3);
    a += 8;
    b += 8;
  }
  while (b < bend && *a == *b) {
    a++;
    b++;
  }
  return (size_t)(b - start);
}

static inline uint8_t* lz4_len(uint8_t* op, size_t r) {
  while (r >= 255) {
    *op++ = 255;
    r -= 255;
  }
  *op++ = (uint8_t)r;
  return op;
}

// Copies n literal bytes in 8-byte steps (no library call per sequence): may read up to 7 bytes
// past lit + n and write up to 7 past op + n. Both stay inside the buffers: a sequence's literals
// end before the match, which starts at least 12 bytes before the input's end, and the output
// after them (offset, further sequences, the last >= 5 literals) is longer than 7 bytes.
static inline void lz4_wildcopy8(uint8_t* op, const uint8_t* lit, size_t n) {
  uint8_t* const end = op + n;
  do {
    memcpy(op, lit, 8);
    op += 8;
    lit += 8;
  } while (op < end);
}

static uint8_t* lz4_sequence(uint8_t* op, const uint8_t* lit, size_t litLen, size_t offset, size_t mlen) {
  uint8_t* tok = op++;
  size_t ml = mlen - 4;
  *tok = (uint8_t)(((litLen >= 15 ? 15 : litLen) << 4) | (ml >= 15 ? 15 : ml));
  if (litLen >= 15) op = lz4_len(op, litLen - 15);
  if (litLen > 0) lz4_wildcopy8(op, lit, litLen);
  op += litLen;
  *op++ = (uint8_t)(offset & 255);
  *op++ = (uint8_t)(offset >> 8);
  if (ml >= 15) op = lz4_len(op, ml - 15);
  return op;
}

static size_t lz4_bound(size_t n) { return 4 + n + n / 255 + 16; }

// The fast search (depth 1): LZ4's reference loop (LZ4_compress_generic) for inputs of any
// size. The hash of the next position is computed while the current one is probed; after
// 64 probes without a match the step grows by one every 64 probes (incompressible stretches
// are crossed quickly, log text rarely gets there); a match is extended backwards over the
// literals before it; after a match, position end-2 is inserted and position end probed at once.
// Hash: 6 bytes times a 64-bit prime. Matches of 4-5 bytes are then only found by chance, but
// on log text they save little, and skipping them makes fewer, longer sequences: faster, and
// with the large table the output is no bigger than with a 5-byte hash (bench/lz4-fast.ts:
// 5 bytes 2^14 0.2827, 6 bytes 2^14 0.2849, 2^15 0.2833, 2^16 0.2824; 7 bytes 2^16 0.2861 but
// faster still). Table: 2^16 u16 entries (128 KiB, in L2) holding positions mod 65536:
// the candidate is ip - (u16)(ip - entry), always inside the 64 KiB window and the input, so
// entries never need a distance check or -1 marker and the table is cleared with memset; an
// offset of 0 (a stale entry exactly 64 KiB back) is rejected, any other stale entry just fails
// the 4-byte compare. Small inputs clear and use fewer entries.
#define LZ4_LIKELY(x) __builtin_expect(!!(x), 1)
#define LZ4_UNLIKELY(x) __builtin_expect(!!(x), 0)
static const int LZ4_FAST_BITS_MAX = 16;
static thread_local uint16_t lz4_fast_table[1 << LZ4_FAST_BITS_MAX];

static inline uint64_t rd64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
// hash of the 6 bytes at p (reads 8: callers keep p + 8 <= input end), zstd's 6-byte prime;
// little-endian byte order (on big-endian targets it hashes other bytes: a valid table, fewer matches)
static inline uint32_t lz4_hash6(const uint8_t* p, int shift) {
  return (uint32_t)(((rd64(p) << 16) * 227718039650203ULL) >> shift);
}

static size_t lz4_compress_fast(const uint8_t* src, size_t n, uint8_t* dst) {
  dst[0] = (uint8_t)n;
  dst[1] = (uint8_t)(n >> 8);
  dst[2] = (uint8_t)(n >> 16);
  dst[3] = (uint8_t)(n >> 24);
  uint8_t* op = dst + 4;
  const uint8_t* anchor = src;
  const uint8_t* const iend = src + n;
  if (n >= 13) {
    int bits = 8;
    while (bits < LZ4_FAST_BITS_MAX && ((size_t)1 << bits) < n) bits++;
    const int shift = 64 - bits;
    uint16_t* const table = lz4_fast_table;
    memset(table, 0, sizeof(uint16_t) << bits);
    // a match starts at most at iend - 12 and ends at most at iend - 5; every position hashed
    // or probed is <= iend - 11, so its 8-byte read ends inside the input
    const uint8_t* const mflimitPlusOne = iend - 11;
    const uint8_t* const matchlimit = iend - 5;
    const uint8_t* ip = src;
    table[lz4_hash6(ip, shift)] = 0;
    ip++;
    uint32_t forwardH = lz4_hash6(ip, shift);
    for (;;) {
      const uint8_t* match;
      {
        const uint8_t* forwardIp = ip;
        size_t step = 1;
        unsigned searchMatchNb = 1u << 6;
        for (;;) {
          const uint32_t h = forwardH;
          ip = forwardIp;
          const uint16_t d = (uint16_t)((uint32_t)(ip - src) - table[h]);
          forwardIp += step;
          step = searchMatchNb++ >> 6;
          if (LZ4_UNLIKELY(forwardIp > mflimitPlusOne)) goto last_literals;
          forwardH = lz4_hash6(forwardIp, shift);
          table[h] = (uint16_t)(ip - src);
          if (d != 0 && rd32(ip - d) == rd32(ip)) {
            match = ip - d;
            break;
          }
        }
      }
      // catch up: the bytes before both also match
      while (ip > anchor && match > src && LZ4_UNLIKELY(ip[-1] == match[-1])) {
        ip--;
        match--;
      }
      uint8_t* token = op++;
      {
        const size_t litLen = (size_t)(ip - anchor);
        if (litLen >= 15) {
          *token = 15 << 4;
          op = lz4_len(op, litLen - 15);
        } else {
          *token = (uint8_t)(litLen << 4);
        }
        lz4_wildcopy8(op, anchor, litLen);
        op += litLen;
      }
      for (;;) {
        const size_t off = (size_t)(ip - match);
        op[0] = (uint8_t)off;
        op[1] = (uint8_t)(off >> 8);
        op += 2;
        size_t ml = lz4_count(match + 4, ip + 4, matchlimit);
        ip += ml + 4;
        if (ml >= 15) {
          *token += 15;
          op = lz4_len(op, ml - 15);
        } else {
          *token += (uint8_t)ml;
        }
        anchor = ip;
        if (LZ4_UNLIKELY(ip >= mflimitPlusOne)) goto last_literals;
        table[lz4_hash6(ip - 2, shift)] = (uint16_t)(ip - 2 - src);
        // another match right here (no literals)?
        const uint32_t h = lz4_hash6(ip, shift);
        const uint16_t d = (uint16_t)((uint32_t)(ip - src) - table[h]);
        table[h] = (uint16_t)(ip - src);
        if (!(d != 0 && rd32(ip - d) == rd32(ip))) break;
        match = ip - d;
        token = op++;
        *token = 0;
      }
      ip++;
      forwardH = lz4_hash6(ip, shift);
    }
  }
last_literals:
  const size_t last = (size_t)(iend - anchor);
  if (last >= 15) {
    *op++ = 15 << 4;
    op = lz4_len(op, last - 15);
  } else {
    *op++ = (uint8_t)(last << 4);
  }
  memcpy(op, anchor, last);
  op += last;
  return (size_t)(op - dst);
}

// Compresses src[0..n) into dst (at least lz4_bound(n) bytes); returns the bytes written.
static size_t lz4_compress_raw(const uint8_t* src, size_t n, uint8_t* dst, int depth) {
  if (depth <= 1) return lz4_compress_fast(src, n, dst);
  dst[0] = (uint8_t)n;
  dst[1] = (uint8_t)(n >> 8);
  dst[2] = (uint8_t)(n >> 16);
  dst[3] = (uint8_t)(n >> 24);
  uint8_t* op = dst + 4;
  size_t anchor = 0;
  if (n >= 13) {
    const size_t mflimit = n - 12;
    const uint8_t* matchEnd = src + n - 5;
    int bits = 8;
    while (bits < LZ4_HASH_BITS_MAX && ((size_t)1 << bits) < n) bits++;
    for (size_t i = 0; i < ((size_t)1 << bits); i++) lz4_head[i] = -1;
    size_t ip = 0;
    size_t inserted = 0;  // positions below this are in the chain (depth > 1)
    while (ip < mflimit) {
      const uint32_t seq = rd32(src + ip);
      const uint32_t h = lz4_hash(seq, bits);
      size_t bestLen = 0, bestOff = 0;
      {
        // bring the chain up to ip (positions skipped inside the previous match)
        while (inserted < ip) {
          uint32_t hh = lz4_hash(rd32(src + inserted), bits);
          int32_t prev = lz4_head[hh];
          size_t d = prev >= 0 ? inserted - (size_t)prev : 0;
          lz4_chain[inserted & 0xffff] = (uint16_t)(d > 65535 ? 0 : d);
          lz4_head[hh] = (int32_t)inserted;
          inserted++;
        }
        int32_t cand = lz4_head[h];
        for (int k = 0; k < depth && cand >= 0; k++) {
          size_t off = ip - (size_t)cand;
          if (off > 65535) break;
          if (rd32(src + cand) == seq) {
            size_t len = 4 + lz4_count(src + cand + 4, src + ip + 4, matchEnd);
            if (len > bestLen) {
              bestLen = len;
              bestOff = off;
              if (src + ip + len >= matchEnd) break;
            }
          }
          uint16_t d = lz4_chain[(size_t)cand & 0xffff];
          if (d == 0) break;
          cand -= d;
        }
        size_t d0 = lz4_head[h] >= 0 ? ip - (size_t)lz4_head[h] : 0;
        lz4_chain[ip & 0xffff] = (uint16_t)(d0 > 65535 ? 0 : d0);
        lz4_head[h] = (int32_t)ip;
        inserted = ip + 1;
      }
      if (bestLen < 4) {
        ip++;
        continue;
      }
      // extend backwards over literals that also match
      while (ip > anchor && ip - bestOff > 0 && src[ip - 1] == src[ip - 1 - bestOff]) {
        ip--;
        bestLen++;
      }
      op = lz4_sequence(op, src + anchor, ip - anchor, bestOff, bestLen);
      ip += bestLen;
      anchor = ip;
    }
  }
  size_t last = n - anchor;
  *op++ = (uint8_t)((last >= 15 ? 15 : last) << 4);
  if (last >= 15) op = lz4_len(op, last - 15);
  memcpy(op, src + anchor, last);
  op += last;
  return (size_t)(op - dst);
}

// lz4CompressInto(src: Uint8Array, dst: Uint8Array, at: number, depth: number): number — writes
// the size-prefixed block at dst[at..] (dst must hold lz4Bound(src.length) bytes from `at`) and
// returns its length; -1 when it does not fit.
static napi_value Lz4CompressInto(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *src, *dst;
  size_t srcLen, dstLen;
  double atD, depthD;
  if (argc < 4 || !typed_bytes(env, argv[0], &src, &srcLen) || !typed_bytes(env, argv[1], &dst, &dstLen) ||
      napi_get_value_double(env, argv[2], &atD) != napi_ok || napi_get_value_double(env, argv[3], &depthD) != napi_ok) {
    napi_throw_type_error(env, nullptr, "lz4CompressInto(src: Uint8Array, dst: Uint8Array, at: number, depth: number)");
    return nullptr;
  }
  size_t at = (size_t)atD;
  napi_value result;
  if (srcLen > 0x7e000000 || at > dstLen || dstLen - at < lz4_bound(srcLen)) {
    CHECK(napi_create_int32(env, -1, &result));
    return result;
  }
  int depth = depthD < 1 ? 1 : depthD > 4096 ? 4096 : (int)depthD;
  size_t w = lz4_compress_raw(src, srcLen, dst + at, depth);
  CHECK(napi_create_double(env, (double)w, &result));
  return result;
}

// cutBlockAsync(stage: Uint8Array, metaLen, smLen, linesLen, outAt, bloom: Uint32Array, depth):
// Promise<[metaC, smC, linesC, trigrams]> - the heavy part of cutting a head block, on a libuv
// thread-pool thread instead of the event loop: the trigram bloom of the lines section into
// `bloom` (zeroed by the caller) and LZ4 compression of the three sections, which the stage
// holds one after another from 0 (meta, sm, lines), to stage[outAt..] one after another (room
// for lz4Bound of each). The caller must not touch either array until the promise settles
// (references keep them alive).
struct CutWork {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref stageRef, bloomRef;
  uint8_t* stage;
  uint32_t* bloom;
  size_t bloomLen, metaLen, smLen, linesLen, outAt;
  int depth;
  size_t metaC = 0, smC = 0, linesC = 0;
  int64_t trigrams = 0;
};

static void CutExecute(napi_env, void* data) {
  CutWork* w = static_cast<CutWork*>(data);
  const uint8_t* meta = w->stage;
  const uint8_t* sm = meta + w->metaLen;
  const uint8_t* lines = sm + w->smLen;
  w->trigrams = bloom_build(lines, w->linesLen, w->bloom, w->bloomLen);
  if (w->trigrams < 0) return;
  uint8_t* out = w->stage + w->outAt;
  w->metaC = lz4_compress_raw(meta, w->metaLen, out, w->depth);
  w->smC = lz4_compress_raw(sm, w->smLen, out + w->metaC, w->depth);
  w->linesC = lz4_compress_raw(lines, w->linesLen, out + w->metaC + w->smC, w->depth);
}

static void CutComplete(napi_env env, napi_status status, void* data) {
  CutWork* w = static_cast<CutWork*>(data);
  napi_value result = nullptr;
  bool ok = status == napi_ok && w->trigrams >= 0 && napi_create_array_with_length(env, 4, &result) == napi_ok;
  if (ok) {
    double v[4] = {(double)w->metaC, (double)w->smC, (double)w->linesC, (double)w->trigrams};
    for (uint32_t i = 0; i < 4 && ok; i++) {
      napi_value n;
      ok = napi_create_double(env, v[i], &n) == napi_ok && napi_set_element(env, result, i, n) == napi_ok;
    }
  }
  if (ok) napi_resolve_deferred(env, w->deferred, result);
  else {
    napi_value msg, err;
    napi_create_string_utf8(env, w->trigrams < 0 ? "cutBlockAsync: out of memory" : "cutBlockAsync was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_reference(env, w->stageRef);
  napi_delete_reference(env, w->bloomRef);
  napi_delete_async_work(env, w->work);
  delete w;
}

static napi_value CutBlockAsync(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *stage, *bloomB;
  size_t stageLen, bloomLen;
  double metaD, smD, linesD, outD, depthD;
  if (argc < 7 || !typed_bytes(env, argv[0], &stage, &stageLen) || napi_get_value_double(env, argv[1], &metaD) != napi_ok ||
      napi_get_value_double(env, argv[2], &smD) != napi_ok || napi_get_value_double(env, argv[3], &linesD) != napi_ok ||
      napi_get_value_double(env, argv[4], &outD) != napi_ok || !typed_bytes(env, argv[5], &bloomB, &bloomLen) ||
      napi_get_value_double(env, argv[6], &depthD) != napi_ok || metaD < 0 || smD < 0 || linesD < 0 || outD < 0) {
    napi_throw_type_error(env, nullptr, "cutBlockAsync(stage, metaLen, smLen, linesLen, outAt, bloom, depth)");
    return nullptr;
  }
  size_t metaLen = (size_t)metaD, smLen = (size_t)smD, linesLen = (size_t)linesD, outAt = (size_t)outD;
  size_t need = lz4_bound(metaLen) + lz4_bound(smLen) + lz4_bound(linesLen);
  if (linesLen > 0x7e000000 || metaLen + smLen + linesLen > outAt || outAt > stageLen || stageLen - outAt < need) {
    napi_throw_range_error(env, nullptr, "cutBlockAsync: the stage cannot hold the sections and their compressed bound");
    return nullptr;
  }
  CutWork* w = new CutWork();
  w->stage = stage;
  w->bloom = reinterpret_cast<uint32_t*>(bloomB);
  w->bloomLen = bloomLen;
  w->metaLen = metaLen;
  w->smLen = smLen;
  w->linesLen = linesLen;
  w->outAt = outAt;
  w->depth = depthD < 1 ? 1 : depthD > 4096 ? 4096 : (int)depthD;
  napi_value promise, name;
  if (napi_create_reference(env, argv[0], 1, &w->stageRef) != napi_ok) {
    delete w;
    napi_throw_error(env, nullptr, "bramble_native: cannot queue a block cut");
    return nullptr;
  }
  if (napi_create_reference(env, argv[5], 1, &w->bloomRef) != napi_ok) {
    napi_delete_reference(env, w->stageRef);
    delete w;
    napi_throw_error(env, nullptr, "bramble_native: cannot queue a block cut");
    return nullptr;
  }
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "bramble:cut_block", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, CutExecute, CutComplete, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_reference(env, w->stageRef);
    napi_delete_reference(env, w->bloomRef);
    delete w;
    napi_throw_error(env, nullptr, "bramble_native: cannot queue a block cut");
    return nullptr;
  }
  return promise;
}

// mallocTrimAsync(): Promise<boolean> — glibc's malloc_trim(0) on a libuv thread-pool thread: it
// returns free pages inside every malloc arena to the OS (madvise), which trimming at the top of
// the heap alone cannot (blocks and push buffers of a few hundred KiB come and go all the time;
// without it the arenas keep their peak size). Trimming a large fragmented heap can take tens of
// milliseconds, which must not stall the event loop. false without glibc (musl, macOS).
struct TrimWork {
  napi_async_work work;
  napi_deferred deferred;
  bool released;
};

static void TrimExecute(napi_env, void* data) {
  TrimWork* w = static_cast<TrimWork*>(data);
  w->released = false;
#if defined(__GLIBC__)
  w->released = malloc_trim(0) != 0;
#endif
}

static void TrimComplete(napi_env env, napi_status status, void* data) {
  TrimWork* w = static_cast<TrimWork*>(data);
  napi_value result;
  if (status == napi_ok && napi_get_boolean(env, w->released, &result) == napi_ok) {
    napi_resolve_deferred(env, w->deferred, result);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "malloc_trim was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  napi_delete_async_work(env, w->work);
  delete w;
}

static napi_value MallocTrimAsync(napi_env env, napi_callback_info info) {
  TrimWork* w = new TrimWork();
  napi_value promise, name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "bramble:malloc_trim", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, TrimExecute, TrimComplete, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    delete w;
    napi_throw_error(env, nullptr, "bramble_native: cannot queue malloc_trim");
    return nullptr;
  }
  return promise;
}

// mallocStats(): [heapBytes, freeBytes, mmapBytes] | null — glibc's mallinfo2 (summed over every
// arena): bytes the arenas hold from the OS, free bytes inside them (which malloc_trim may hand
// back; already-returned pages still count), and bytes of chunks mmapped on their own. It walks
// each arena's free lists under that arena's lock: microseconds for the few thousand free chunks
// a server has. mallinfo2 came with glibc 2.33; it is looked up at run time so the addon also
// loads on older glibc (then null, as without glibc).
#if defined(__GLIBC__)
struct Mallinfo2Compat {
  size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};
typedef Mallinfo2Compat (*Mallinfo2Fn)();
#endif

static napi_value MallocStats(napi_env env, napi_callback_info) {
  napi_value result;
#if defined(__GLIBC__)
  static Mallinfo2Fn fn = reinterpret_cast<Mallinfo2Fn>(dlsym(RTLD_DEFAULT, "mallinfo2"));
  if (fn) {
    Mallinfo2Compat m = fn();
    double v[3] = {(double)m.arena, (double)m.fordblks, (double)m.hblkhd};
    CHECK(napi_create_array_with_length(env, 3, &result));
    for (uint32_t i = 0; i < 3; i++) {
      napi_value x;
      CHECK(napi_create_double(env, v[i], &x));
      CHECK(napi_set_element(env, result, i, x));
    }
    return result;
  }
#endif
  CHECK(napi_get_null(env, &result));
  return result;
}

// copyRanges(src: Uint8Array, ranges: Int32Array [start0, end0, ...], n, dst: Uint8Array, at): number
// The line copy of a batch of entries into an open block's lines section: src[ranges[2i],
// ranges[2i+1]) for i < n, back to back from dst[at]; returns the end position, or -1 (nothing
// written) when a range is not inside src or the lines do not fit dst. One call per stream and
// push instead of a JavaScript byte loop per line.
static napi_value CopyRanges(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *src, *rangesB, *dst;
  size_t srcLen, rangesLen, dstLen;
  double nD, atD;
  if (argc < 5 || !typed_bytes(env, argv[0], &src, &srcLen) || !typed_bytes(env, argv[1], &rangesB, &rangesLen) ||
      napi_get_value_double(env, argv[2], &nD) != napi_ok || !typed_bytes(env, argv[3], &dst, &dstLen) ||
      napi_get_value_double(env, argv[4], &atD) != napi_ok) {
    napi_throw_type_error(env, nullptr, "copyRanges(src, ranges, n, dst, at)");
    return nullptr;
  }
  napi_value result;
  size_t n = nD > 0 ? (size_t)nD : 0;
  if (rangesLen / 4 < 2 * n || atD < 0 || atD > (double)dstLen) {
    CHECK(napi_create_int32(env, -1, &result));
    return result;
  }
  const int32_t* ranges = reinterpret_cast<const int32_t*>(rangesB);
  size_t at = (size_t)atD;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t s = ranges[2 * i], e = ranges[2 * i + 1];
    if (s < 0 || e < s || (size_t)e > srcLen) {
      CHECK(napi_create_int32(env, -1, &result));
      return result;
    }
    total += (size_t)(e - s);
  }
  if (total > dstLen - at) {
    CHECK(napi_create_int32(env, -1, &result));
    return result;
  }
  uint8_t* op = dst + at;
  for (size_t i = 0; i < n; i++) {
    size_t s = (size_t)ranges[2 * i], l = (size_t)ranges[2 * i + 1] - s;
    memcpy(op, src + s, l);
    op += l;
  }
  CHECK(napi_create_double(env, (double)(op - dst), &result));
  return result;
}

// alignedBuffer(size: number, align: number): ArrayBuffer — size zeroed bytes at an address that
// is a multiple of align (a power of two, at least 8): O_DIRECT writes need their memory aligned
// to the device's block size, which no JavaScript allocation promises. Freed when the
// ArrayBuffer is collected.
static void FreeAligned(napi_env, void* data, void*) { free(data); }

static napi_value AlignedBuffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double sizeD, alignD;
  if (argc < 2 || napi_get_value_double(env, argv[0], &sizeD) != napi_ok || napi_get_value_double(env, argv[1], &alignD) != napi_ok ||
      !(sizeD >= 1 && sizeD <= (double)(1u << 30)) || !(alignD >= 8 && alignD <= 65536)) {
    napi_throw_type_error(env, nullptr, "alignedBuffer(size: 1..2^30, align: 8..65536)");
    return nullptr;
  }
  size_t size = (size_t)sizeD, align = (size_t)alignD;
  if ((align & (align - 1)) != 0) {
    napi_throw_type_error(env, nullptr, "alignedBuffer: align must be a power of two");
    return nullptr;
  }
  void* p = nullptr;
  if (posix_memalign(&p, align, size) != 0 || !p) {
    napi_throw_error(env, nullptr, "out of memory");
    return nullptr;
  }
  memset(p, 0, size);
  napi_value result;
  if (napi_create_external_arraybuffer(env, p, size, FreeAligned, nullptr, &result) != napi_ok) {
    free(p);
    napi_throw_error(env, nullptr, "alignedBuffer: external ArrayBuffers are not allowed in this runtime");
    return nullptr;
  }
  return result;
}

// releasePages(view: Uint8Array): number — hands the whole pages inside the view's bytes back to
// the OS (madvise MADV_DONTNEED): they read as zeros afterwards and cost a page fault each when
// written again, but the memory stays mapped and the view usable. For pooled buffers nothing
// reads (block slabs, line buffers): their RSS goes at once, without waiting for a collection
// to free them. The partial pages at either end (holding malloc's chunk header or a neighbour)
// are left alone. Returns the bytes released (0 where madvise is missing or fails).
static napi_value ReleasePages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* p;
  size_t len;
  if (argc < 1 || !typed_bytes(env, argv[0], &p, &len)) {
    napi_throw_type_error(env, nullptr, "releasePages(view: Uint8Array)");
    return nullptr;
  }
  double released = 0;
#if defined(__linux__)
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t to = ((uintptr_t)p + len) & ~(page - 1);
  if (to > from && madvise((void*)from, to - from, MADV_DONTNEED) == 0) released = (double)(to - from);
#endif
  napi_value result;
  CHECK(napi_create_double(env, released, &result));
  return result;
}

// startIncrementalGc(): undefined — asks V8 for a major collection done incrementally: a moderate
// memory-pressure notification starts incremental marking (reducing memory: it also compacts)
// unless marking already runs. Marking then advances concurrently and in small steps between
// tasks, and the event loop pauses once more to finish (compacting, and sweeping ArrayBuffers),
// where a forced gc() also marks the whole heap in its one pause (~20 ms here, more under load). The one V8 (C++) call in this addon:
// N-API has no way to say this, and the addon is always built against the running node's headers.
static napi_value StartIncrementalGc(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  return nullptr;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"lz4Decode", nullptr, Lz4Decode, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"filterLines", nullptr, FilterLines, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trigramBloomBuild", nullptr, TrigramBloomBuild, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"snappyDecodeInto", nullptr, SnappyDecodeInto, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"levelScan", nullptr, LevelScan, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lz4CompressInto", nullptr, Lz4CompressInto, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cutBlockAsync", nullptr, CutBlockAsync, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mallocTrimAsync", nullptr, MallocTrimAsync, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mallocStats", nullptr, MallocStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyRanges", nullptr, CopyRanges, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"logfmtLevels", nullptr, LogfmtLevels, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scanStream", nullptr, ScanStream, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"alignedBuffer", nullptr, AlignedBuffer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"releasePages", nullptr, ReleasePages, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"startIncrementalGc", nullptr, StartIncrementalGc, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
