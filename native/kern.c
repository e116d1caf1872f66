/*
 * The native kernels: C twins of the WebAssembly SIMD kernels of asm/kernels.ts,
 * the same floats bit for bit. Compiled once per target by scripts/build-native.mjs
 * (-DVW=4 portable, -DVW=8 -mavx2, -DVW=16 -mavx512f; always -ffp-contract=off,
 * never -ffast-math), each copy's names suffixed by SUF; native/addon.c picks one
 * at load time (__builtin_cpu_supports).
 *
 * Why the bytes are the wasm kernels' own: every float operation here is an IEEE
 * binary32 add or multiply (no FMA contraction, no reassociation), and each output
 * float is formed by exactly the operations, in the same order, that its wasm lane
 * forms it with:
 *  - Reductions (dot products: matVec, the dots of inputSweep, matVec2) keep the
 *    wasm kernels' four-lane accumulators (v4): lane l sums the j ≡ l (mod 4) in
 *    order of j, then ((l0 + l1) + l2) + l3, then the scalar tail in order.
 *  - Elementwise sweeps (out[j] op= f(row values at j)) have no reduction across j,
 *    so any vector width gives each j the same expression: the j < m & ~3 take the
 *    wasm vector expression (VW lanes at a time, then the same expression scalar),
 *    the j ≥ m & ~3 the wasm scalar tail's expression. a·b = b·a and a + b = b + a
 *    hold bit for bit, so only the grouping of the additions is mirrored.
 * native-fast (-DNP_FAST, built with -mfma -ffp-contract=fast, only for AVX2 and AVX-512F):
 * the same kernels, but every a·b + c contracts to one FMA and the reductions keep VW-lane
 * accumulators (8 or 16 lanes, then 4-lane ones for what is left, summed lane by lane at the end): NOT the wasm kernels' floats.
 * Off by default (--backend native-fast); test/native-fast.test.ts holds each kernel to the
 * plain float64 reference within γ_L = L·u / (1 − L·u) of the sum of |terms| (L the rounding
 * chain's length, u = 2⁻²⁴), the bound for a sum in any order with or without FMA (Higham §3.1).
 * Arguments are byte offsets into one arena memory at base B (the wasm arena's own
 * memory, shared: see src/core/native.ts); offset 0 means "none", as in wasm.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if VW > 4
#include <immintrin.h>
#endif

#ifndef VW
#define VW 4
#endif
#ifndef SUF
#define SUF _portable
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(x) CAT(x, SUF)

typedef float v4 __attribute__((vector_size(16)));
typedef float vw __attribute__((vector_size(VW * 4)));

static inline v4 ld4(const float* p) { v4 v; memcpy(&v, p, 16); return v; }
static inline void st4(float* p, v4 v) { memcpy(p, &v, 16); }
static inline vw ldw(const float* p) { vw v; memcpy(&v, p, sizeof v); return v; }
static inline void stw(float* p, vw v) { memcpy(p, &v, sizeof v); }
static inline v4 spl4(float s) { return (v4){s, s, s, s}; }
/* hsum of asm/kernels.ts: ((l0 + l1) + l2) + l3. */
static inline float hsum(v4 v) { return v[0] + v[1] + v[2] + v[3]; }

#define F(o) ((float*)(B + (o)))
/* The type of an expression without its qualifiers (a float or a vector), for temporaries of the macros below. */
#define NC(e) __typeof__((e) * 1.f)
#define FOR_W(j, end) for (; (j) + VW <= (end); (j) += VW)
/* Then four lanes at a time for what the VW-wide loop left: elementwise, so each element takes the same expression (the same bytes). */
#define FOR_4(j, end) for (; (j) + 4 <= (end); (j) += 4)

#ifdef NP_FAST
/* native-fast: a wide accumulator's lanes are summed in any order (not wasm's floats). */
/* The VW lanes folded to four by halves (a tree: log₂(VW/4) vector adds, where a lane-by-lane sum is VW − 1 dependent adds per row). */
typedef float v8f __attribute__((vector_size(32)));
static inline v4 fold4(vw v) {
#if VW == 16
  const v8f h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  return __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
#elif VW == 8
  return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
#else
  return v;
#endif
}
/* Dense matVec rows with VW-lane accumulators (FMA-contracted), then the scalar tail (j ≥ m − m mod VW) and the bias. */
static inline void matVecRowsWide(float* out, const float* W, const float* x, int n, int m, const float* b) {
  const int mw = m - m % VW;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float *r0 = W + (size_t)i * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
    vw a0 = (vw){0}, a1 = (vw){0}, a2 = (vw){0}, a3 = (vw){0};
    for (int j = 0; j < mw; j += VW) {
      const vw xv = ldw(x + j);
      a0 = a0 + ldw(r0 + j) * xv; a1 = a1 + ldw(r1 + j) * xv; a2 = a2 + ldw(r2 + j) * xv; a3 = a3 + ldw(r3 + j) * xv;
    }
    /* Then four lanes while they last (short rows, the RNN's 28 inputs: a VW-only loop would leave most of them scalar). */
    v4 b0 = spl4(0), b1 = spl4(0), b2 = spl4(0), b3 = spl4(0);
    int j = mw;
    for (; j + 4 <= m; j += 4) {
      const v4 xv = ld4(x + j);
      b0 = b0 + ld4(r0 + j) * xv; b1 = b1 + ld4(r1 + j) * xv; b2 = b2 + ld4(r2 + j) * xv; b3 = b3 + ld4(r3 + j) * xv;
    }
    float s0 = hsum(fold4(a0) + b0), s1 = hsum(fold4(a1) + b1), s2 = hsum(fold4(a2) + b2), s3 = hsum(fold4(a3) + b3);
    for (; j < m; j++) { const float xj = x[j]; s0 += r0[j] * xj; s1 += r1[j] * xj; s2 += r2[j] * xj; s3 += r3[j] * xj; }
    if (b) { s0 += b[i]; s1 += b[i + 1]; s2 += b[i + 2]; s3 += b[i + 3]; }
    out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const float* r0 = W + (size_t)i * m;
    vw a0 = (vw){0};
    for (int j = 0; j < mw; j += VW) a0 = a0 + ldw(r0 + j) * ldw(x + j);
    v4 b0 = spl4(0);
    int j = mw;
    for (; j + 4 <= m; j += 4) b0 = b0 + ld4(r0 + j) * ld4(x + j);
    float s0 = hsum(fold4(a0) + b0);
    for (; j < m; j++) s0 += r0[j] * x[j];
    if (b) s0 += b[i];
    out[i] = s0;
  }
}
#endif

/* ---- matVec (four rows at a time, as matVecRows) ---- */

/* The groups of x at float offsets g[0 … G) (dense: 0, 4, 8, …), then the scalar tail and the bias. */
static inline void matVecRows(float* out, const float* W, const float* x, int n, int m, const float* b, const int32_t* g, int G, int dense) {
  const int m4 = m & ~3;
  int i = 0;
  /* Eight rows at a time first: eight independent accumulator chains hide the add latency that four
     leave exposed (each row's floats are its own chain's, so the bytes are the four-row loop's). */
  for (; i + 8 <= n; i += 8) {
    const float* r[8];
    for (int k = 0; k < 8; k++) r[k] = W + (size_t)(i + k) * m;
    v4 a0 = spl4(0), a1 = spl4(0), a2 = spl4(0), a3 = spl4(0), a4 = spl4(0), a5 = spl4(0), a6 = spl4(0), a7 = spl4(0);
    for (int q = 0; q < G; q++) {
      const int o = dense ? 4 * q : g[q];
      const v4 xv = ld4(x + o);
      a0 = a0 + ld4(r[0] + o) * xv; a1 = a1 + ld4(r[1] + o) * xv; a2 = a2 + ld4(r[2] + o) * xv; a3 = a3 + ld4(r[3] + o) * xv;
      a4 = a4 + ld4(r[4] + o) * xv; a5 = a5 + ld4(r[5] + o) * xv; a6 = a6 + ld4(r[6] + o) * xv; a7 = a7 + ld4(r[7] + o) * xv;
    }
    float s[8] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3), hsum(a4), hsum(a5), hsum(a6), hsum(a7)};
    for (int j = m4; j < m; j++) { const float xj = x[j]; for (int k = 0; k < 8; k++) s[k] += r[k][j] * xj; }
    if (b) for (int k = 0; k < 8; k++) s[k] += b[i + k];
    for (int k = 0; k < 8; k++) out[i + k] = s[k];
  }
  for (; i + 4 <= n; i += 4) {
    const float *r0 = W + (size_t)i * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
    v4 a0 = spl4(0), a1 = spl4(0), a2 = spl4(0), a3 = spl4(0);
    for (int q = 0; q < G; q++) {
      const int o = dense ? 4 * q : g[q];
      const v4 xv = ld4(x + o);
      a0 = a0 + ld4(r0 + o) * xv;
      a1 = a1 + ld4(r1 + o) * xv;
      a2 = a2 + ld4(r2 + o) * xv;
      a3 = a3 + ld4(r3 + o) * xv;
    }
    float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (int j = m4; j < m; j++) {
      const float xj = x[j];
      s0 += r0[j] * xj; s1 += r1[j] * xj; s2 += r2[j] * xj; s3 += r3[j] * xj;
    }
    if (b) { s0 += b[i]; s1 += b[i + 1]; s2 += b[i + 2]; s3 += b[i + 3]; }
    out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const float* r0 = W + (size_t)i * m;
    v4 a0 = spl4(0);
    for (int q = 0; q < G; q++) { const int o = dense ? 4 * q : g[q]; a0 = a0 + ld4(r0 + o) * ld4(x + o); }
    float s0 = hsum(a0);
    for (int j = m4; j < m; j++) s0 += r0[j] * x[j];
    if (b) s0 += b[i];
    out[i] = s0;
  }
}

void FN(k_matVec)(char* B, uint32_t out, uint32_t W, uint32_t x, int n, int m, uint32_t b) {
#ifdef NP_FAST
  matVecRowsWide(F(out), F(W), F(x), n, m, b ? F(b) : NULL); return;
#endif
  matVecRows(F(out), F(W), F(x), n, m, b ? F(b) : NULL, NULL, (m & ~3) >> 2, 1);
}


#define RP (VW / 4)
/* Four floats from each of RP rows sb apart, side by side; and x's group in every block. Intrinsics: gcc compiles a
   shufflevector that widens four-lane vectors into stores and a wider reload, which store forwarding cannot serve. */
#if VW == 8
static inline vw rowsLoad(const float* p, size_t sb) { return (vw)_mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), _mm_loadu_ps(p + sb), 1); }
static inline vw bcast4(const float* p) { const __m128 g = _mm_loadu_ps(p); return (vw)_mm256_insertf128_ps(_mm256_castps128_ps256(g), g, 1); }
#elif VW == 16
static inline vw rowsLoad(const float* p, size_t sb) {
  __m512 z = _mm512_castps128_ps512(_mm_loadu_ps(p));
  z = _mm512_insertf32x4(z, _mm_loadu_ps(p + sb), 1);
  z = _mm512_insertf32x4(z, _mm_loadu_ps(p + 2 * sb), 2);
  return (vw)_mm512_insertf32x4(z, _mm_loadu_ps(p + 3 * sb), 3);
}
static inline vw bcast4(const float* p) { return (vw)_mm512_broadcast_f32x4(_mm_loadu_ps(p)); }
#endif

/* ---- matVec on a packed copy of W: the RNN's J and U, read T times between two updates (exact builds) ---- */

#ifndef NP_FAST
/*
 * P holds W (n, m), n a multiple of four, in blocks of four rows: block b, group q is the sixteen floats
 * W[4b + r][4q + l] (r, l < 4), so one load of VW floats is r's four-lane groups side by side, and x's group q
 * broadcast to every row multiplies them: lane (r, l) of the accumulator sums row 4b + r's floats j ≡ l (mod 4)
 * in order of j, as matVecRows's a_r does; then ((l0 + l1) + l2) + l3, the tail j ≥ m & ~3 (read from W) and the
 * bias, in matVecRows's order: the same floats, with a quarter of the vector operations on AVX-512.
 */
static void packRows4(float* P, const float* W, int n, int m) {
  const int G = m >> 2;
  for (int b = 0; b < n >> 2; b++)
    for (int q = 0; q < G; q++)
      for (int r = 0; r < 4; r++) memcpy(P + ((size_t)b * G + q) * 16 + 4 * r, W + (size_t)(4 * b + r) * m + 4 * q, 16);
}

#define NB (16 / VW)
/* x's group of four at p, in every four-lane block of a vector. */
#if VW > 4
static inline vw bcastG(const float* p) { return bcast4(p); }
#else
static inline vw bcastG(const float* p) { return ld4(p); }
#endif

/* Row 4b + r's dot (r < 4) from block accumulators a[0 … NB): ((l0 + l1) + l2) + l3 of its four lanes (for every
   row of a vector at once: lane 4r of ((v + v₁) + v₂) + v₃, vᵢ lane 4r + i moved to 4r), then the tail and the bias. */
static inline __attribute__((always_inline)) void packedFinish(float* out, const vw* a, const float* W, const float* x, int row0, int m,
  const float* bias) {
  const int m4 = m & ~3;
  float h[4];
#if VW == 16
  const vw v = a[0];
  const vw sv = ((v + __builtin_shufflevector(v, v, 1, 0, 0, 0, 5, 4, 4, 4, 9, 8, 8, 8, 13, 12, 12, 12))
    + __builtin_shufflevector(v, v, 2, 0, 0, 0, 6, 4, 4, 4, 10, 8, 8, 8, 14, 12, 12, 12))
    + __builtin_shufflevector(v, v, 3, 0, 0, 0, 7, 4, 4, 4, 11, 8, 8, 8, 15, 12, 12, 12);
  h[0] = sv[0]; h[1] = sv[4]; h[2] = sv[8]; h[3] = sv[12];
#elif VW == 8
  _Pragma("GCC unroll 2") for (int k = 0; k < 2; k++) {
    const vw v = a[k];
    const vw sv = ((v + __builtin_shufflevector(v, v, 1, 0, 0, 0, 5, 4, 4, 4)) + __builtin_shufflevector(v, v, 2, 0, 0, 0, 6, 4, 4, 4))
      + __builtin_shufflevector(v, v, 3, 0, 0, 0, 7, 4, 4, 4);
    h[2 * k] = sv[0]; h[2 * k + 1] = sv[4];
  }
#else
  _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++) h[r] = hsum(a[r]);
#endif
  _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++) {
    float s = h[r];
    const float* w = W + (size_t)(row0 + r) * m;
    for (int j = m4; j < m; j++) s += w[j] * x[j];
    if (bias) s += bias[row0 + r];
    out[row0 + r] = s;
  }
}

/* out(n) = W x [+ b] from P = packRows4(W): four blocks (sixteen rows) at a time, then one. */
static void matVecPacked(float* out, const float* P, const float* W, const float* x, int n, int m, const float* bias) {
  const int G = m >> 2, nb = n >> 2;
  const size_t bs = (size_t)G * 16;
  int b = 0;
  for (; b + 4 <= nb; b += 4) {
    vw a[4][NB];
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) _Pragma("GCC unroll 4") for (int k = 0; k < NB; k++) a[u][k] = (vw){0};
    const float* p = P + (size_t)b * bs;
    for (int q = 0; q < G; q++) {
      const vw xv = bcastG(x + 4 * q);
      _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) _Pragma("GCC unroll 4") for (int k = 0; k < NB; k++) a[u][k] = a[u][k] + ldw(p + u * bs + 16 * q + VW * k) * xv;
    }
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) packedFinish(out, a[u], W, x, 4 * (b + u), m, bias);
  }
  for (; b < nb; b++) {
    vw a[NB];
    _Pragma("GCC unroll 4") for (int k = 0; k < NB; k++) a[k] = (vw){0};
    const float* p = P + (size_t)b * bs;
    for (int q = 0; q < G; q++) {
      const vw xv = bcastG(x + 4 * q);
      _Pragma("GCC unroll 4") for (int k = 0; k < NB; k++) a[k] = a[k] + ldw(p + 16 * q + VW * k) * xv;
    }
    packedFinish(out, a, W, x, 4 * b, m, bias);
  }
}

/* This thread's scratch for packed copies (worker threads share the addon, so no static buffer), grown on demand and
   kept for the thread's life: one buffer of the largest J or U packed, about 40 KB at N = 100, not freed when a worker ends. */
static __thread float* packBuf = NULL;
static __thread size_t packCap = 0;
static float* packScratch(size_t floats) {
  if (floats > packCap) {
    free(packBuf);
    packBuf = aligned_alloc(64, ((floats * 4 + 63) / 64) * 64);
    packCap = packBuf ? floats : 0;
  }
  return packBuf;
}
#endif

/* matVecs: T matVecs of one W (the RNN's input projection over a sequence), each row matVec's floats. */
void FN(k_matVecs)(char* B, uint32_t out, uint32_t W, uint32_t X, int T, int n, int m) {
#ifdef NP_FAST
  for (int t = 0; t < T; t++) matVecRowsWide(F(out) + (size_t)t * n, F(W), F(X) + (size_t)t * m, n, m, NULL);
#else
  /* Packing costs one or two matVecs; from three on it pays. */
  float* P = n % 4 == 0 && T >= 3 ? packScratch((size_t)n * (m & ~3)) : NULL;
  if (P) {
    packRows4(P, F(W), n, m);
    for (int t = 0; t < T; t++) matVecPacked(F(out) + (size_t)t * n, P, F(W), F(X) + (size_t)t * m, n, m, NULL);
    return;
  }
  for (int t = 0; t < T; t++) matVecRows(F(out) + (size_t)t * n, F(W), F(X) + (size_t)t * m, n, m, NULL, NULL, (m & ~3) >> 2, 1);
#endif
}

/* matVecNZ: the four-float groups of x that are +0 throughout are skipped (see asm/kernels.ts); GIDX: scratch of `groups` int32. */
int FN(k_matVecNZ)(char* B, uint32_t out, uint32_t W, uint32_t x, int n, int m, uint32_t b, uint32_t gidx, int groups) {
  const int m4 = m & ~3;
  if ((m4 >> 2) > groups) return 0;
  const float* xp = F(x);
  int32_t* g = (int32_t*)(B + gidx);
  int G = 0;
  for (int j = 0; j < m4; j += 4) {
    uint32_t w[4];
    memcpy(w, xp + j, 16);
    if (w[0] | w[1] | w[2] | w[3]) g[G++] = j;
  }
  matVecRows(F(out), F(W), xp, n, m, b ? F(b) : NULL, g, G, 0);
  return 1;
}

/* ---- Elementwise sweeps: out += Σ coefficient · row ---- */

/* out(len) += s0·r0 + s1·r1 + s2·r2 + s3·r3 (accRows4): vector lanes ((c0 r0 + c1 r1) + (c2 r2 + c3 r3)), tail in order. */
static inline void accRows4(float* out, const float* r0, const float* r1, const float* r2, const float* r3, float s0, float s1, float s2, float s3, int len) {
  const int n4 = len & ~3;
  int j = 0;
#define ACC4(o, a, b, c, d) ((o) + ((s0 * (a) + s1 * (b)) + (s2 * (c) + s3 * (d))))
  FOR_W(j, n4) stw(out + j, ACC4(ldw(out + j), ldw(r0 + j), ldw(r1 + j), ldw(r2 + j), ldw(r3 + j)));
  FOR_4(j, n4) st4(out + j, ACC4(ld4(out + j), ld4(r0 + j), ld4(r1 + j), ld4(r2 + j), ld4(r3 + j)));
  for (; j < n4; j++) out[j] = ACC4(out[j], r0[j], r1[j], r2[j], r3[j]);
#undef ACC4
  for (; j < len; j++) out[j] = out[j] + s0 * r0[j] + s1 * r1[j] + s2 * r2[j] + s3 * r3[j];
}

static inline void accRow1(float* out, const float* r0, float s0, int len) {
  int j = 0;
  FOR_W(j, len) stw(out + j, ldw(out + j) + s0 * ldw(r0 + j));
  FOR_4(j, len) st4(out + j, ld4(out + j) + s0 * ld4(r0 + j));
  for (; j < len; j++) out[j] = out[j] + s0 * r0[j];
}

void FN(k_matTVec)(char* B, uint32_t out_, uint32_t W_, uint32_t a_, int n, int m) {
  float *out = F(out_);
  const float *W = F(W_), *a = F(a_);
  memset(out, 0, (size_t)m * 4);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* r0 = W + (size_t)i * m;
    accRows4(out, r0, r0 + m, r0 + 2 * (size_t)m, r0 + 3 * (size_t)m, a[i], a[i + 1], a[i + 2], a[i + 3], m);
  }
  for (; i < n; i++) accRow1(out, W + (size_t)i * m, a[i], m);
}

void FN(k_matTVecs)(char* B, uint32_t out, uint32_t W, uint32_t A, int T, int n, int m) {
  for (int t = 0; t < T; t++) FN(k_matTVec)(B, out + 4u * (uint32_t)(t * m), W, A + 4u * (uint32_t)(t * n), n, m);
}

void FN(k_matTVec2)(char* B, uint32_t oA, uint32_t oB, uint32_t W_, uint32_t a_, uint32_t b_, int n, int m) {
  float *outA = F(oA), *outB = F(oB);
  const float *W = F(W_), *a = F(a_), *b = F(b_);
  memset(outA, 0, (size_t)m * 4);
  memset(outB, 0, (size_t)m * 4);
  const int m4 = m & ~3;
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    const float *r0 = W + (size_t)i * m, *r1 = r0 + m;
    const float sa0 = a[i], sa1 = a[i + 1], sb0 = b[i], sb1 = b[i + 1];
    int j = 0;
    FOR_W(j, m4) {
      const vw w0 = ldw(r0 + j), w1 = ldw(r1 + j);
      stw(outA + j, ldw(outA + j) + (sa0 * w0 + sa1 * w1));
      stw(outB + j, ldw(outB + j) + (sb0 * w0 + sb1 * w1));
    }
#if VW > 4
    /* The last groups of four, outA's and outB's side by side in one 256-bit vector ([s_a lanes 0 … 3, s_b lanes 4 … 7]):
       each element the same expression out + (s₀ w₀ + s₁ w₁), in half the vector operations (N = 100 leaves one group). */
    {
      const __m256 c0 = _mm256_insertf128_ps(_mm256_set1_ps(sa0), _mm_set1_ps(sb0), 1), c1 = _mm256_insertf128_ps(_mm256_set1_ps(sa1), _mm_set1_ps(sb1), 1);
      for (; j + 4 <= m4; j += 4) {
        const __m128 g0 = _mm_loadu_ps(r0 + j), g1 = _mm_loadu_ps(r1 + j);
        const __m256 w0 = _mm256_insertf128_ps(_mm256_castps128_ps256(g0), g0, 1), w1 = _mm256_insertf128_ps(_mm256_castps128_ps256(g1), g1, 1);
        const __m256 o = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(outA + j)), _mm_loadu_ps(outB + j), 1);
        const __m256 r = _mm256_add_ps(o, _mm256_add_ps(_mm256_mul_ps(c0, w0), _mm256_mul_ps(c1, w1)));
        _mm_storeu_ps(outA + j, _mm256_castps256_ps128(r)); _mm_storeu_ps(outB + j, _mm256_extractf128_ps(r, 1));
      }
    }
#endif
    FOR_4(j, m4) {
      const v4 w0 = ld4(r0 + j), w1 = ld4(r1 + j);
      st4(outA + j, ld4(outA + j) + (sa0 * w0 + sa1 * w1));
      st4(outB + j, ld4(outB + j) + (sb0 * w0 + sb1 * w1));
    }
    for (; j < m4; j++) {
      const float w0 = r0[j], w1 = r1[j];
      outA[j] = outA[j] + (sa0 * w0 + sa1 * w1);
      outB[j] = outB[j] + (sb0 * w0 + sb1 * w1);
    }
    for (; j < m; j++) {
      const float w0 = r0[j], w1 = r1[j];
      outA[j] = outA[j] + sa0 * w0 + sa1 * w1;
      outB[j] = outB[j] + sb0 * w0 + sb1 * w1;
    }
  }
  for (; i < n; i++) {
    const float* r0 = W + (size_t)i * m;
    const float sa = a[i], sb = b[i];
    int j = 0;
    FOR_W(j, m4) { const vw w = ldw(r0 + j); stw(outA + j, ldw(outA + j) + sa * w); stw(outB + j, ldw(outB + j) + sb * w); }
    FOR_4(j, m4) { const v4 w = ld4(r0 + j); st4(outA + j, ld4(outA + j) + sa * w); st4(outB + j, ld4(outB + j) + sb * w); }
    for (; j < m; j++) { const float w = r0[j]; outA[j] = outA[j] + sa * w; outB[j] = outB[j] + sb * w; }
  }
}

/* ---- addOuters: W += Σ_k s_k u_k v_kᵀ, K ≤ 4 per pass, two rows at a time (outerChunk) ---- */

typedef struct { float s; uint32_t u, v; } Desc;

static inline void outerChunk(char* B, float* W, int n, int m, const Desc* d, int K) {
  const int m4 = m & ~3;
  const float s0 = d[0].s; const float* u0 = F(d[0].u); const float* v0 = F(d[0].v);
  const float s1 = K > 1 ? d[1].s : 0.f; const float* u1 = K > 1 ? F(d[1].u) : u0; const float* v1 = K > 1 ? F(d[1].v) : v0;
  const float s2 = K > 2 ? d[2].s : 0.f; const float* u2 = K > 2 ? F(d[2].u) : u0; const float* v2 = K > 2 ? F(d[2].v) : v0;
  const float s3 = K > 3 ? d[3].s : 0.f; const float* u3 = K > 3 ? F(d[3].u) : u0; const float* v3 = K > 3 ? F(d[3].v) : v0;
  for (int i = 0; i < n; i += 2) {
    const int two = i + 1 < n;
    float *r0 = W + (size_t)i * m, *r1 = two ? r0 + m : r0;
    const int i1 = two ? i + 1 : i;
    const float c00 = s0 * u0[i], c10 = s1 * u1[i], c20 = s2 * u2[i], c30 = s3 * u3[i];
    const float z = two ? 1.f : 0.f;
    const float c01 = z * s0 * u0[i1], c11 = z * s1 * u1[i1], c21 = z * s2 * u2[i1], c31 = z * s3 * u3[i1];
    if (!two) {
      for (int j = 0; j < m; j++) {
        float t = c00 * v0[j];
        if (K > 1) t += c10 * v1[j];
        if (K > 2) t += c20 * v2[j];
        if (K > 3) t += c30 * v3[j];
        r0[j] = r0[j] + t;
      }
      break;
    }
    int j = 0;
    /* outerCol: t_r = q0r p (+ q1r q) (+ q2r …) …, w_r += t_r. */
#define OCOL(LD, ST)                                                                       \
  {                                                                                        \
    const NC(LD(v0 + j)) p = LD(v0 + j);                                           \
    NC(p) t0 = c00 * p, t1 = c01 * p;                                              \
    if (K > 1) { const NC(p) q = LD(v1 + j); t0 = t0 + c10 * q; t1 = t1 + c11 * q; } \
    if (K > 2) { const NC(p) q = LD(v2 + j); t0 = t0 + c20 * q; t1 = t1 + c21 * q; } \
    if (K > 3) { const NC(p) q = LD(v3 + j); t0 = t0 + c30 * q; t1 = t1 + c31 * q; } \
    ST(r0 + j, LD(r0 + j) + t0);                                                            \
    ST(r1 + j, LD(r1 + j) + t1);                                                            \
  }
#define LDS(p) (*(p))
#define STS(p, v) (*(p) = (v))
    FOR_W(j, m4) OCOL(ldw, stw)
    FOR_4(j, m4) OCOL(ld4, st4)
    for (; j < m4; j++) OCOL(LDS, STS)
    for (; j < m; j++) {
      const float a = v0[j], b = v1[j], c = v2[j], dd = v3[j];
      r0[j] = r0[j] + c00 * a + c10 * b + c20 * c + c30 * dd;
      r1[j] = r1[j] + c01 * a + c11 * b + c21 * c + c31 * dd;
    }
  }
}

void FN(k_addOuters)(char* B, uint32_t W, int n, int m, int K, uint32_t desc) {
  const Desc* d = (const Desc*)(B + desc);
  for (int k = 0; k < K; k += 4) {
    const int left = K - k < 4 ? K - k : 4;
    if (left == 1) outerChunk(B, F(W), n, m, d + k, 1);
    else if (left == 2) outerChunk(B, F(W), n, m, d + k, 2);
    else if (left == 3) outerChunk(B, F(W), n, m, d + k, 3);
    else outerChunk(B, F(W), n, m, d + k, 4);
  }
}

/* ---- backUpdate: g = Wᵀe and Wout += Σ_k s_k u_k v_kᵀ (K ≤ 3) in one sweep, then bte = g, g ⊙= d ---- */

static inline void sweep(char* B, float* g, const float* W, float* Wout, const float* e, int n, int m, const Desc* desc, int K, int G, int inPlace) {
  const int m4 = m & ~3;
  const float s0 = K > 0 ? desc[0].s : 0.f; const float* u0 = K > 0 ? F(desc[0].u) : e; const float* v0 = K > 0 ? F(desc[0].v) : e;
  const float s1 = K > 1 ? desc[1].s : 0.f; const float* u1 = K > 1 ? F(desc[1].u) : u0; const float* v1 = K > 1 ? F(desc[1].v) : v0;
  const float s2 = K > 2 ? desc[2].s : 0.f; const float* u2 = K > 2 ? F(desc[2].u) : u0; const float* v2 = K > 2 ? F(desc[2].v) : v0;
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    const float *r0 = W + (size_t)i * m, *r1 = r0 + m;
    float *w0 = Wout + (size_t)i * m, *w1 = w0 + m;
    const float e0 = G ? e[i] : 0.f, e1 = G ? e[i + 1] : 0.f;
    const float c00 = s0 * u0[i], c10 = s1 * u1[i], c20 = s2 * u2[i];
    const float c01 = s0 * u0[i + 1], c11 = s1 * u1[i + 1], c21 = s2 * u2[i + 1];
    int j = 0;
    /* sweepCol: a_r = W rows; g += (e0 a0 + e1 a1); t_r = q0r p (+ q1r q) (+ q2r t); w_r = (a_r or w_r) + t_r. */
#define SCOL(LD, ST, ZERO)                                                                   \
  {                                                                                          \
    const NC(LD(r0 + j)) a0 = G || inPlace ? LD(r0 + j) : ZERO, a1 = G || inPlace ? LD(r1 + j) : ZERO; \
    if (G) ST(g + j, LD(g + j) + (e0 * a0 + e1 * a1));                                       \
    if (K > 0) {                                                                             \
      const NC(a0) p = LD(v0 + j);                                                   \
      NC(a0) t0 = c00 * p, t1 = c01 * p;                                             \
      if (K > 1) { const NC(a0) q = LD(v1 + j); t0 = t0 + c10 * q; t1 = t1 + c11 * q; } \
      if (K > 2) { const NC(a0) q = LD(v2 + j); t0 = t0 + c20 * q; t1 = t1 + c21 * q; } \
      ST(w0 + j, (inPlace ? a0 : LD(w0 + j)) + t0);                                          \
      ST(w1 + j, (inPlace ? a1 : LD(w1 + j)) + t1);                                          \
    }                                                                                        \
  }
    FOR_W(j, m4) SCOL(ldw, stw, (vw){0})
    FOR_4(j, m4) SCOL(ld4, st4, spl4(0))
    for (; j < m4; j++) SCOL(LDS, STS, 0.f)
    for (; j < m; j++) {
      const float a0 = r0[j], a1 = r1[j];
      if (G) g[j] = g[j] + e0 * a0 + e1 * a1;
      if (K > 0) {
        const float p = v0[j], q = v1[j], t = v2[j];
        w0[j] = (inPlace ? a0 : w0[j]) + c00 * p + c10 * q + c20 * t;
        w1[j] = (inPlace ? a1 : w1[j]) + c01 * p + c11 * q + c21 * t;
      }
    }
  }
  for (; i < n; i++) {
    const float* r0 = W + (size_t)i * m;
    float* w0 = Wout + (size_t)i * m;
    const float e0 = G ? e[i] : 0.f;
    const float c0 = s0 * u0[i], c1 = s1 * u1[i], c2 = s2 * u2[i];
    for (int j = 0; j < m; j++) {
      const float a0 = r0[j];
      if (G) g[j] = g[j] + e0 * a0;
      if (K > 0) w0[j] = (inPlace ? a0 : w0[j]) + c0 * v0[j] + c1 * v1[j] + c2 * v2[j];
    }
  }
}

void FN(k_backUpdate)(char* B, uint32_t g_, uint32_t W_, uint32_t Wout_, uint32_t e_, int n, int m, int K, uint32_t desc_, uint32_t d_, uint32_t bte_) {
  float* g = g_ ? F(g_) : NULL;
  const float *W = F(W_), *e = F(e_);
  float* Wout = F(Wout_);
  const Desc* desc = (const Desc*)(B + desc_);
  if (g) memset(g, 0, (size_t)m * 4);
  const int inPlace = W_ == Wout_;
  /* One specialised sweep per (K, g, in place), as in wasm (constants after inlining). */
  if (g) {
    if (inPlace) {
      if (K == 0) sweep(B, g, W, Wout, e, n, m, desc, 0, 1, 1);
      else if (K == 1) sweep(B, g, W, Wout, e, n, m, desc, 1, 1, 1);
      else if (K == 2) sweep(B, g, W, Wout, e, n, m, desc, 2, 1, 1);
      else sweep(B, g, W, Wout, e, n, m, desc, 3, 1, 1);
    } else {
      if (K == 0) sweep(B, g, W, Wout, e, n, m, desc, 0, 1, 0);
      else if (K == 1) sweep(B, g, W, Wout, e, n, m, desc, 1, 1, 0);
      else if (K == 2) sweep(B, g, W, Wout, e, n, m, desc, 2, 1, 0);
      else sweep(B, g, W, Wout, e, n, m, desc, 3, 1, 0);
    }
  } else if (inPlace) {
    if (K == 1) sweep(B, g, W, Wout, e, n, m, desc, 1, 0, 1);
    else if (K == 2) sweep(B, g, W, Wout, e, n, m, desc, 2, 0, 1);
    else if (K == 3) sweep(B, g, W, Wout, e, n, m, desc, 3, 0, 1);
  } else {
    if (K == 1) sweep(B, g, W, Wout, e, n, m, desc, 1, 0, 0);
    else if (K == 2) sweep(B, g, W, Wout, e, n, m, desc, 2, 0, 0);
    else if (K == 3) sweep(B, g, W, Wout, e, n, m, desc, 3, 0, 0);
  }
  if (g && d_) {
    const float* d = F(d_);
    float* bte = F(bte_);
    for (int j = 0; j < m; j++) { const float t = g[j]; bte[j] = t; g[j] = t * d[j]; }
  }
}

/* ---- The first layer, stored transposed (InputKernels) ---- */

void FN(k_matVecT)(char* B, uint32_t out_, uint32_t WT_, int stride, uint32_t x_, uint32_t idx_, int cnt, int n, uint32_t b_) {
  float* out = F(out_);
  const float *WT = F(WT_), *x = F(x_);
  const int32_t* idx = (const int32_t*)(B + idx_);
  if (b_) memcpy(out, F(b_), (size_t)n * 4);
  else memset(out, 0, (size_t)n * 4);
  int t = 0;
  for (; t + 4 <= cnt; t += 4) {
    const int j0 = idx[t], j1 = idx[t + 1], j2 = idx[t + 2], j3 = idx[t + 3];
    accRows4(out, WT + (size_t)j0 * stride, WT + (size_t)j1 * stride, WT + (size_t)j2 * stride, WT + (size_t)j3 * stride, x[j0], x[j1], x[j2], x[j3], n);
  }
  for (; t < cnt; t++) { const int j0 = idx[t]; accRow1(out, WT + (size_t)j0 * stride, x[j0], n); }
}

/* Four dot products r_q·v (dot4 and dot4v of asm/kernels.ts: the same floats). */
static inline void dot4(const float* r0, const float* r1, const float* r2, const float* r3, const float* v, int n, float* s) {
#ifdef NP_FAST
  {
    const int nw = n - n % VW;
    vw a0 = (vw){0}, a1 = (vw){0}, a2 = (vw){0}, a3 = (vw){0};
    for (int k = 0; k < nw; k += VW) {
      const vw w = ldw(v + k);
      a0 = a0 + ldw(r0 + k) * w; a1 = a1 + ldw(r1 + k) * w; a2 = a2 + ldw(r2 + k) * w; a3 = a3 + ldw(r3 + k) * w;
    }
    v4 b0 = spl4(0), b1 = spl4(0), b2 = spl4(0), b3 = spl4(0);
    int k = nw;
    for (; k + 4 <= n; k += 4) {
      const v4 w = ld4(v + k);
      b0 = b0 + ld4(r0 + k) * w; b1 = b1 + ld4(r1 + k) * w; b2 = b2 + ld4(r2 + k) * w; b3 = b3 + ld4(r3 + k) * w;
    }
    float s0 = hsum(fold4(a0) + b0), s1 = hsum(fold4(a1) + b1), s2 = hsum(fold4(a2) + b2), s3 = hsum(fold4(a3) + b3);
    for (; k < n; k++) { const float w = v[k]; s0 += r0[k] * w; s1 += r1[k] * w; s2 += r2[k] * w; s3 += r3[k] * w; }
    s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
    return;
  }
#endif
  v4 a0 = spl4(0), a1 = spl4(0), a2 = spl4(0), a3 = spl4(0);
  const int n4 = n & ~3;
  int k = 0;
  for (; k < n4; k += 4) {
    const v4 w = ld4(v + k);
    a0 = a0 + ld4(r0 + k) * w; a1 = a1 + ld4(r1 + k) * w; a2 = a2 + ld4(r2 + k) * w; a3 = a3 + ld4(r3 + k) * w;
  }
  float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (; k < n; k++) { const float w = v[k]; s0 += r0[k] * w; s1 += r1[k] * w; s2 += r2[k] * w; s3 += r3[k] * w; }
  s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}

/*
 * dot4 over 4·RP rows at once (RP = VW / 4 rows per vector register): each register holds the
 * four-lane accumulators of RP rows side by side, so every row's lanes sum its own groups in
 * order, exactly as dot4's a_r, and then hsum and the tail in order. Rows sb floats apart.
 */
#if VW > 4
static inline void dotRows(const float* r, size_t sb, const float* v, int n, float* s) {
  vw a0 = (vw){0}, a1 = (vw){0}, a2 = (vw){0}, a3 = (vw){0};
  const size_t sR = RP * sb;
  const int n4 = n & ~3;
  int k = 0;
  for (; k < n4; k += 4) {
    const vw w = bcast4(v + k);
    a0 = a0 + rowsLoad(r + k, sb) * w;
    a1 = a1 + rowsLoad(r + sR + k, sb) * w;
    a2 = a2 + rowsLoad(r + 2 * sR + k, sb) * w;
    a3 = a3 + rowsLoad(r + 3 * sR + k, sb) * w;
  }
  const vw acc[4] = {a0, a1, a2, a3};
  for (int q = 0; q < 4 * RP; q++) {
    const vw a = acc[q / RP];
    const int l = 4 * (q % RP);
    float t = a[l] + a[l + 1] + a[l + 2] + a[l + 3];
    const float* rq = r + (size_t)q * sb;
    for (int kk = n4; kk < n; kk++) t += rq[kk] * v[kk];
    s[q] = t;
  }
}
#endif

/* dot2 of asm/kernels.ts: a·b + c·d with two accumulators over eight floats, hsum(a0 + a1), tail in order. */
static inline float dot2(const float* a, const float* b, const float* c, const float* d, int n) {
#ifdef NP_FAST
  {
    const int nw = n - n % VW;
    vw acc = (vw){0};
    for (int i = 0; i < nw; i += VW) acc = acc + ldw(a + i) * ldw(b + i) + ldw(c + i) * ldw(d + i);
    v4 a4 = spl4(0);
    int i = nw;
    for (; i + 4 <= n; i += 4) a4 = a4 + ld4(a + i) * ld4(b + i) + ld4(c + i) * ld4(d + i);
    float s = hsum(fold4(acc) + a4);
    for (; i < n; i++) s += a[i] * b[i] + c[i] * d[i];
    return s;
  }
#endif
  const int n8 = n & ~7, n4 = n & ~3;
  v4 a0 = spl4(0), a1 = spl4(0);
  int i = 0;
  for (; i < n8; i += 8) {
    a0 = a0 + (ld4(a + i) * ld4(b + i) + ld4(c + i) * ld4(d + i));
    a1 = a1 + (ld4(a + i + 4) * ld4(b + i + 4) + ld4(c + i + 4) * ld4(d + i + 4));
  }
  if (i < n4) a0 = a0 + (ld4(a + i) * ld4(b + i) + ld4(c + i) * ld4(d + i));
  float s = hsum(a0 + a1);
  for (i = n4; i < n; i++) s += a[i] * b[i] + c[i] * d[i];
  return s;
}

/* dot2x4: s[q] = a_q·v + b_q·w for four row pairs (rows q·sb apart). */
static inline void dot2x4(const float* a, const float* b, int sb, const float* v, const float* w, int n, float* s) {
#ifdef NP_FAST
  {
    const int nw = n - n % VW;
    vw c0 = (vw){0}, c1 = (vw){0}, c2 = (vw){0}, c3 = (vw){0};
    for (int k = 0; k < nw; k += VW) {
      const vw vv = ldw(v + k), ww = ldw(w + k);
      c0 = c0 + ldw(a + k) * vv + ldw(b + k) * ww;
      c1 = c1 + ldw(a + sb + k) * vv + ldw(b + sb + k) * ww;
      c2 = c2 + ldw(a + 2 * sb + k) * vv + ldw(b + 2 * sb + k) * ww;
      c3 = c3 + ldw(a + 3 * sb + k) * vv + ldw(b + 3 * sb + k) * ww;
    }
    v4 e0 = spl4(0), e1 = spl4(0), e2 = spl4(0), e3 = spl4(0);
    int k = nw;
    for (; k + 4 <= n; k += 4) {
      const v4 vv = ld4(v + k), ww = ld4(w + k);
      e0 = e0 + ld4(a + k) * vv + ld4(b + k) * ww;
      e1 = e1 + ld4(a + sb + k) * vv + ld4(b + sb + k) * ww;
      e2 = e2 + ld4(a + 2 * sb + k) * vv + ld4(b + 2 * sb + k) * ww;
      e3 = e3 + ld4(a + 3 * sb + k) * vv + ld4(b + 3 * sb + k) * ww;
    }
    float t0 = hsum(fold4(c0) + e0), t1 = hsum(fold4(c1) + e1), t2 = hsum(fold4(c2) + e2), t3 = hsum(fold4(c3) + e3);
    for (; k < n; k++) {
      const float vs = v[k], ws = w[k];
      t0 += a[k] * vs + b[k] * ws; t1 += a[sb + k] * vs + b[sb + k] * ws;
      t2 += a[2 * sb + k] * vs + b[2 * sb + k] * ws; t3 += a[3 * sb + k] * vs + b[3 * sb + k] * ws;
    }
    s[0] = t0; s[1] = t1; s[2] = t2; s[3] = t3;
    return;
  }
#endif
  v4 c0 = spl4(0), c1 = spl4(0), c2 = spl4(0), c3 = spl4(0);
  const int n4 = n & ~3;
  int k = 0;
  for (; k < n4; k += 4) {
    const v4 vv = ld4(v + k), ww = ld4(w + k);
    c0 = c0 + (ld4(a + k) * vv + ld4(b + k) * ww);
    c1 = c1 + (ld4(a + sb + k) * vv + ld4(b + sb + k) * ww);
    c2 = c2 + (ld4(a + 2 * sb + k) * vv + ld4(b + 2 * sb + k) * ww);
    c3 = c3 + (ld4(a + 3 * sb + k) * vv + ld4(b + 3 * sb + k) * ww);
  }
  float t0 = hsum(c0), t1 = hsum(c1), t2 = hsum(c2), t3 = hsum(c3);
  for (; k < n; k++) {
    const float vs = v[k], ws = w[k];
    t0 += a[k] * vs + b[k] * ws;
    t1 += a[sb + k] * vs + b[sb + k] * ws;
    t2 += a[2 * sb + k] * vs + b[2 * sb + k] * ws;
    t3 += a[3 * sb + k] * vs + b[3 * sb + k] * ws;
  }
  s[0] = t0; s[1] = t1; s[2] = t2; s[3] = t3;
}

/* axpy: r(n) += c0 v0 [+ c1 v1 [+ c2 v2]]; vector and tail both ((c0 v0 + c1 v1) + c2 v2), then r + t. */
static inline void axpy(float* r, int n, int K, float c0, const float* v0, float c1, const float* v1, float c2, const float* v2) {
  int j = 0;
#define AX(LD, ST)                                  \
  {                                                 \
    NC(LD(v0 + j)) t = c0 * LD(v0 + j);     \
    if (K > 1) t = t + c1 * LD(v1 + j);             \
    if (K > 2) t = t + c2 * LD(v2 + j);             \
    ST(r + j, LD(r + j) + t);                       \
  }
  FOR_W(j, n) AX(ldw, stw)
  FOR_4(j, n) AX(ld4, st4)
  for (; j < n; j++) AX(LDS, STS)
#undef AX
}

/* upd4: four rows r + q·sb += a_q A [+ b_q B]; vector lanes r + (a A + b B) (K = 2) or r + a A (K = 1, where n & ~3 reaches: see below). */
static inline void upd4(float* r, int sb, int n, int K, const float* A, const float* Bv, const float* ca, const float* cb) {
  const float a0 = ca[0], a1 = ca[1], a2 = ca[2], a3 = ca[3];
  const float b0 = K > 1 ? cb[0] : 0.f, b1 = K > 1 ? cb[1] : 0.f, b2 = K > 1 ? cb[2] : 0.f, b3 = K > 1 ? cb[3] : 0.f;
  float *p0 = r, *p1 = r + sb, *p2 = r + 2 * sb, *p3 = r + 3 * sb;
  const int n8 = n & ~7, n4 = n & ~3;
  int j = 0;
  /* The eight-column loop of wasm: K = 2 adds (a A + b B), K = 1 adds a A alone. */
#define U2(LD, ST)                                          \
  {                                                         \
    const NC(LD(A + j)) va = LD(A + j), vb = LD(Bv + j); \
    ST(p0 + j, LD(p0 + j) + (a0 * va + b0 * vb));           \
    ST(p1 + j, LD(p1 + j) + (a1 * va + b1 * vb));           \
    ST(p2 + j, LD(p2 + j) + (a2 * va + b2 * vb));           \
    ST(p3 + j, LD(p3 + j) + (a3 * va + b3 * vb));           \
  }
#define U1(LD, ST)                                          \
  {                                                         \
    const NC(LD(A + j)) va = LD(A + j);             \
    ST(p0 + j, LD(p0 + j) + a0 * va);                       \
    ST(p1 + j, LD(p1 + j) + a1 * va);                       \
    ST(p2 + j, LD(p2 + j) + a2 * va);                       \
    ST(p3 + j, LD(p3 + j) + a3 * va);                       \
  }
  if (K > 1) {
    FOR_W(j, n8) U2(ldw, stw)
    FOR_4(j, n8) U2(ld4, st4)
    for (; j < n8; j++) U2(LDS, STS)
  } else {
    FOR_W(j, n8) U1(ldw, stw)
    FOR_4(j, n8) U1(ld4, st4)
    for (; j < n8; j++) U1(LDS, STS)
  }
  /* wasm's (n & 4) block: always the two-term form, with vb = 0 when K = 1. */
  if (n & 4) {
    for (; j < n4; j++) {
      const float va = A[j], vb = K > 1 ? Bv[j] : 0.f;
      p0[j] = p0[j] + (a0 * va + b0 * vb);
      p1[j] = p1[j] + (a1 * va + b1 * vb);
      p2[j] = p2[j] + (a2 * va + b2 * vb);
      p3[j] = p3[j] + (a3 * va + b3 * vb);
    }
  }
  for (; j < n; j++) {
    const float va = A[j], vb = K > 1 ? Bv[j] : 0.f;
    p0[j] = p0[j] + (a0 * va + b0 * vb);
    p1[j] = p1[j] + (a1 * va + b1 * vb);
    p2[j] = p2[j] + (a2 * va + b2 * vb);
    p3[j] = p3[j] + (a3 * va + b3 * vb);
  }
#undef U1
#undef U2
}

static inline void rowUpdate2(float* r, int n, float a, const float* A, float b, const float* Bv) {
  if (A && a != 0) {
    if (Bv) axpy(r, n, 2, a, A, b, Bv, 0, A);
    else axpy(r, n, 1, a, A, 0, A, 0, A);
  } else if (Bv) axpy(r, n, 1, b, Bv, 0, Bv, 0, Bv);
}

static inline void rowUpdate3(float* r, int n, float a, const float* A, float b, const float* Bv, float c, const float* C) {
  if (!C) { rowUpdate2(r, n, a, A, b, Bv); return; }
  if (A && a != 0) {
    if (Bv) axpy(r, n, 3, a, A, b, Bv, c, C);
    else axpy(r, n, 2, a, A, c, C, 0, A);
  } else if (Bv) axpy(r, n, 2, b, Bv, c, C, 0, Bv);
  else axpy(r, n, 1, c, C, 0, C, 0, C);
}

#define PF(o) ((o) ? F(o) : NULL)

/* inputSweep of asm/kernels.ts (its doc comment has the maths): tdesc holds P records of six u32 offsets. */
void FN(k_inputSweep)(char* B, uint32_t WT_, int stride, int m, int n, uint32_t x_, uint32_t y_, uint32_t A_, uint32_t B_, uint32_t u_, uint32_t idx_,
  int cnt, int P, uint32_t tdesc_) {
  float* WT = F(WT_);
  const float *x = F(x_), *y = F(y_), *A = PF(A_), *Bv = PF(B_);
  float* u = F(u_);
  const int32_t* idx = (const int32_t*)(B + idx_);
  const uint32_t* tdesc = (const uint32_t*)(B + tdesc_);
  const int sb = stride;
  float scr[32];
  if (!Bv && P == 0) {
    if (!A) return;
    for (int t = 0; t < cnt; t++) { const int j = idx[t]; axpy(WT + (size_t)j * sb, n, 1, x[j], A, 0, A, 0, A); }
    return;
  }
  int j = 0;
  if (P == 0 && Bv) {
    /* Rows below `dotted` have their uⱼ already. */
    int dotted = 0;
    for (; j + 4 <= m; j += 4) {
      float* row = WT + (size_t)j * sb;
      if (j >= dotted) {
#if VW > 4 && !defined(NP_FAST)
        /* The dots of 4·RP rows at once: rows are independent (row j's update reads no other row), so the floats are dot4's.
           (With rowsLoad as intrinsics; the vector-extension form it replaced cost more than it saved on AVX-512.) */
        if (j + 4 * RP <= m) { dotRows(row, sb, y, n, u + j); dotted = j + 4 * RP; }
        else
#endif
        { dot4(row, row + sb, row + 2 * sb, row + 3 * sb, y, n, u + j); dotted = j + 4; }
      }
      for (int q = 0; q < 4; q++) scr[8 + q] = x[j + q] - u[j + q];
      const int blank = x[j] == 0 && x[j + 1] == 0 && x[j + 2] == 0 && x[j + 3] == 0;
      if (!A || blank) { upd4(row, sb, n, 1, Bv, Bv, scr + 8, scr + 8); continue; }
      for (int q = 0; q < 4; q++) rowUpdate2(row + (size_t)q * sb, n, x[j + q], A, scr[8 + q], Bv);
    }
  }
  for (; j < m; j += 4) {
    const int R = m - j < 4 ? m - j : 4;
    float* row = WT + (size_t)j * sb;
    const float *r1 = R > 1 ? row + sb : row, *r2 = R > 2 ? row + 2 * sb : row, *r3 = R > 3 ? row + 3 * sb : row;
    if (Bv) dot4(row, r1, r2, r3, y, n, scr);
    else scr[0] = scr[1] = scr[2] = scr[3] = 0;
    for (int q = 0; q < R; q++) if (Bv) u[j + q] = scr[q];
    int blank = 1;
    for (int q = 0; q < R; q++) if (x[j + q] != 0) blank = 0;
    for (int k = 0; k < P; k++) {
      const uint32_t* d = tdesc + 6 * k;
      float* dWT = F(d[0]);
      const float *dy = F(d[1]), *Ak = PF(d[2]), *Bk = PF(d[3]), *Ck = PF(d[4]);
      float* duk = PF(d[5]);
      float* r = dWT + (size_t)j * sb;
      if (Ck) {
        if (R == 4) dot2x4(r, row, sb, y, dy, n, scr + 4);
        else for (int q = 0; q < R; q++) scr[4 + q] = dot2(r + (size_t)q * sb, y, row + (size_t)q * sb, dy, n);
      }
      if (R == 4 && Bk && Ck && (!Ak || blank)) {
        for (int q = 0; q < 4; q++) {
          const float du = scr[4 + q];
          scr[8 + q] = x[j + q] - scr[q];
          scr[12 + q] = -du;
          if (duk) duk[j + q] = du;
        }
        upd4(r, sb, n, 2, Bk, Ck, scr + 8, scr + 12);
        continue;
      }
      for (int q = 0; q < R; q++) {
        const float xj = x[j + q], uj = scr[q];
        const float du = Ck ? scr[4 + q] : 0.f;
        if (Ck && duk) duk[j + q] = du;
        rowUpdate3(r + (size_t)q * sb, n, xj, Ak, xj - uj, Bk, -du, Ck);
      }
    }
    if (R == 4 && Bv && (!A || blank)) {
      for (int q = 0; q < 4; q++) scr[8 + q] = x[j + q] - scr[q];
      upd4(row, sb, n, 1, Bv, Bv, scr + 8, scr + 8);
      continue;
    }
    for (int q = 0; q < R; q++) {
      const float xj = x[j + q], uj = scr[q];
      rowUpdate2(row + (size_t)q * sb, n, xj, A, xj - uj, Bv);
    }
  }
}

/* ---- The first layer in a packed layout (AVX-512, exact builds): InputKernels on a layout without shuffles ---- */

#if VW == 16 && !defined(NP_FAST)
/*
 * P holds the transposed first layer WT (m rows, pixel j's weights to the n units, m a multiple of four) in blocks
 * of four rows: block b, group g is the sixteen floats WT[4b + q][4g + l] (q, l < 4) at P + 16·(b·G + g), G = stride/4
 * (lanes past n are zero; the masked tail update loads them with its tile and stores them back untouched, and no result
 * reads them). One 512-bit load is then four rows' four-lane groups side by side, which is
 * what dotRows assembles from sixteen loads and twelve inserts: the inserts took the two 512-bit ports the
 * arithmetic needs (the dots alone, over 784 × 170 weights in L1, took 7.7 µs on the Intel Xeon; reading the layer
 * from L2 takes 3), and the sweep waited on them. Measured by scripts/bench-sweep.ts (one core, alternating): the
 * sweep 19.1 → 12.3 µs a step, the forward pass 1.6 → 1.95 µs (a row's sixteen units are four loads apart now).
 * Every float the kernels below form is the one the unpacked kernels (k_matVecT, k_inputSweep without tangents)
 * form, by the same operations in the same order (NaN payloads aside: which NaN an add returns depends on its
 * operand order, as between wasm engines); only where the floats sit differs. test/native-cases.ts
 * (packedCases) holds them to the wasm kernels through pack and unpack, the tails and signed zeros included.
 */
#define PK(P, G, j, i) ((P) + ((size_t)((j) >> 2) * (size_t)(G) + (size_t)((i) >> 2)) * 16 + ((j) & 3) * 4 + ((i) & 3))

/* W (n, m) row-major ↔ P (back = 1: P → W). The padding lanes (units n … stride − 1) are written as zeros. */
void FN(k_packT)(char* B, uint32_t P_, uint32_t W_, int n, int m, int stride, int back) {
  float* P = F(P_);
  float* W = F(W_);
  const int G = stride / 4, n4 = n & ~3;
  for (int g = 0; g < G; g++) {
    const int i0 = 4 * g;
    for (int b = 0; b < m / 4; b++) {
      float* t = P + ((size_t)b * G + g) * 16;
      const int j0 = 4 * b;
      if (i0 < n4) {
        /* A 4 × 4 transpose: W's rows i0 … i0 + 3 at columns j0 … j0 + 3 ↔ the tile's rows q (pixels), lanes l (units). */
        if (!back) {
          __m128 r0 = _mm_loadu_ps(W + (size_t)i0 * m + j0), r1 = _mm_loadu_ps(W + (size_t)(i0 + 1) * m + j0),
                 r2 = _mm_loadu_ps(W + (size_t)(i0 + 2) * m + j0), r3 = _mm_loadu_ps(W + (size_t)(i0 + 3) * m + j0);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(t, r0); _mm_storeu_ps(t + 4, r1); _mm_storeu_ps(t + 8, r2); _mm_storeu_ps(t + 12, r3);
        } else {
          __m128 r0 = _mm_loadu_ps(t), r1 = _mm_loadu_ps(t + 4), r2 = _mm_loadu_ps(t + 8), r3 = _mm_loadu_ps(t + 12);
          _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
          _mm_storeu_ps(W + (size_t)i0 * m + j0, r0); _mm_storeu_ps(W + (size_t)(i0 + 1) * m + j0, r1);
          _mm_storeu_ps(W + (size_t)(i0 + 2) * m + j0, r2); _mm_storeu_ps(W + (size_t)(i0 + 3) * m + j0, r3);
        }
        continue;
      }
      for (int q = 0; q < 4; q++)
        for (int l = 0; l < 4; l++) {
          const int i = i0 + l;
          if (back) { if (i < n) W[(size_t)i * m + j0 + q] = t[4 * q + l]; }
          else t[4 * q + l] = i < n ? W[(size_t)i * m + j0 + q] : 0.f;
        }
    }
  }
}

/* k_matVecT on P: out = Σ_t x[idx_t] WT[idx_t, :] (+ b), accRows4's and accRow1's expressions per unit. */
void FN(k_matVecTP)(char* B, uint32_t out_, uint32_t P_, int stride, uint32_t x_, uint32_t idx_, int cnt, int n, uint32_t b_) {
  float* out = F(out_);
  const float *P = F(P_), *x = F(x_);
  const int32_t* idx = (const int32_t*)(B + idx_);
  const int G = stride / 4, n4 = n & ~3, g4 = n4 / 4, g16 = g4 & ~3;
  if (b_) memcpy(out, F(b_), (size_t)n * 4);
  else memset(out, 0, (size_t)n * 4);
  int t = 0;
  for (; t + 4 <= cnt; t += 4) {
    const int j0 = idx[t], j1 = idx[t + 1], j2 = idx[t + 2], j3 = idx[t + 3];
    const float s0 = x[j0], s1 = x[j1], s2 = x[j2], s3 = x[j3];
    const float *r0 = PK(P, G, j0, 0), *r1 = PK(P, G, j1, 0), *r2 = PK(P, G, j2, 0), *r3 = PK(P, G, j3, 0);
#define ACC4(o, a, b, c, d) ((o) + ((s0 * (a) + s1 * (b)) + (s2 * (c) + s3 * (d))))
    int g = 0;
    /* Four groups of a row are 16 floats apart: rowsLoad(r, 16) gathers them into one vector. */
    for (; g < g16; g += 4) stw(out + 4 * g, ACC4(ldw(out + 4 * g), rowsLoad(r0 + 16 * g, 16), rowsLoad(r1 + 16 * g, 16), rowsLoad(r2 + 16 * g, 16), rowsLoad(r3 + 16 * g, 16)));
    for (; g < g4; g++) st4(out + 4 * g, ACC4(ld4(out + 4 * g), ld4(r0 + 16 * g), ld4(r1 + 16 * g), ld4(r2 + 16 * g), ld4(r3 + 16 * g)));
#undef ACC4
    for (int i = n4; i < n; i++) {
      const int o = 16 * (i >> 2) + (i & 3);
      out[i] = out[i] + s0 * r0[o] + s1 * r1[o] + s2 * r2[o] + s3 * r3[o];
    }
  }
  for (; t < cnt; t++) {
    const int j0 = idx[t];
    const float s0 = x[j0], *r0 = PK(P, G, j0, 0);
    int g = 0;
    for (; g < g16; g += 4) stw(out + 4 * g, ldw(out + 4 * g) + s0 * rowsLoad(r0 + 16 * g, 16));
    for (; g < g4; g++) st4(out + 4 * g, ld4(out + 4 * g) + s0 * ld4(r0 + 16 * g));
    for (int i = n4; i < n; i++) out[i] = out[i] + s0 * r0[16 * (i >> 2) + (i & 3)];
  }
}

/* Lane q·4 + l of a vector of four rows' groups: each row's four values spread over its four lanes. */
static inline __m512 spreadRows(const float* c) {
  return _mm512_permutexvar_ps(_mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0), _mm512_castps128_ps512(_mm_loadu_ps(c)));
}

/* dot4's end for the four rows of block tile-accumulator a (rows at P block base pb): ((l0 + l1) + l2) + l3, then the tail in order. */
static inline void packedDotFinish(vw a, const float* pb, const float* y, int n, float* u) {
  const int n4 = n & ~3;
  for (int q = 0; q < 4; q++) {
    float s = a[4 * q] + a[4 * q + 1] + a[4 * q + 2] + a[4 * q + 3];
    for (int i = n4; i < n; i++) s += pb[16 * (i >> 2) + 4 * q + (i & 3)] * y[i];
    u[q] = s;
  }
}

/*
 * k_inputSweep without tangents on P. Per block b (rows 4b … 4b + 3, the unpacked kernel's groups of four): with B,
 * uⱼ = WTⱼ·y (dot4's floats) and cⱼ = xⱼ − uⱼ; then each element takes the expression the unpacked kernel gives it:
 * a block that is blank (or every block when A is absent) went through upd4 with K = 1: r + c·B for units below
 * n & ~7, r + (c·B + 0·0) from there (wasm's two-term tail); in any other block row j went through rowUpdate2:
 * r + (x·A + c·B) if xⱼ ≠ 0, else r + c·B. Without B, rows with xⱼ ≠ 0 take r + x·A (axpy). The dots of the next two
 * blocks share the column loop with the update of the current two (software-pipelined: the dots' multiply-adds and
 * the update's loads and stores overlap; alone, one after the other, they did not).
 */
void FN(k_inputSweepP)(char* B, uint32_t P_, int stride, int m, int n, uint32_t x_, uint32_t y_, uint32_t A_, uint32_t B_, uint32_t u_,
  uint32_t idx_, int cnt) {
  float* P = F(P_);
  const float *x = F(x_), *y = F(y_), *A = PF(A_), *Bv = PF(B_);
  float* u = F(u_);
  const int32_t* idx = (const int32_t*)(B + idx_);
  const int G = stride / 4, n4 = n & ~3, n8 = n & ~7, g4 = n4 / 4, g8 = n8 / 4, nb = m / 4;
  if (!Bv) {
    if (!A) return;
    for (int t = 0; t < cnt; t++) {
      const int j = idx[t];
      const float xj = x[j];
      float* r = PK(P, G, j, 0);
      for (int g = 0; g < g4; g++) st4(r + 16 * g, ld4(r + 16 * g) + xj * ld4(A + 4 * g));
      for (int i = n4; i < n; i++) { float* p = r + 16 * (i >> 2) + (i & 3); *p = *p + xj * A[i]; }
    }
    return;
  }
  if (nb == 0) return;
  /* The partial group's B and A (units n & ~3 … n − 1, loaded without reading past n) in every row's lanes, and its lanes. */
  const int nt = n - n4;
  const __mmask16 lt = (__mmask16)(((1u << nt) - 1) * 0x1111u);
  const vw bt = nt ? (vw)_mm512_broadcast_f32x4(_mm512_castps512_ps128(_mm512_maskz_loadu_ps((__mmask16)((1u << nt) - 1), Bv + n4))) : (vw){0};
  const vw at = nt && A ? (vw)_mm512_broadcast_f32x4(_mm512_castps512_ps128(_mm512_maskz_loadu_ps((__mmask16)((1u << nt) - 1), A + n4))) : (vw){0};
  /* The first pair's dots. */
  {
    vw a0 = (vw){0}, a1 = (vw){0};
    const float *d0 = P, *d1 = nb > 1 ? P + (size_t)G * 16 : P;
    for (int g = 0; g < g4; g++) {
      const vw w = bcast4(y + 4 * g);
      a0 = a0 + ldw(d0 + 16 * g) * w;
      a1 = a1 + ldw(d1 + 16 * g) * w;
    }
    packedDotFinish(a0, d0, y, n, u);
    if (nb > 1) packedDotFinish(a1, d1, y, n, u + 4);
  }
  for (int b = 0; b < nb; b += 2) {
    const int two = b + 1 < nb, nd = b + 2 < nb ? (b + 3 < nb ? 2 : 1) : 0;
    float* r0 = P + (size_t)b * G * 16;
    float* r1 = two ? r0 + (size_t)G * 16 : r0;
    const float* d0 = r0 + (size_t)(two ? 2 : 1) * G * 16;
    const float* d1 = nd > 1 ? d0 + (size_t)G * 16 : (nd ? d0 : r0);
    const int j = 4 * b;
    float c[8] = {0}; /* c + 4 is read whole (spreadRows) even when the pair is one block */
    __mmask16 k[2] = {0, 0};
    int blank[2] = {1, 1};
    for (int h = 0; h < 1 + two; h++) {
      const float* xb = x + j + 4 * h;
      blank[h] = !A || (xb[0] == 0 && xb[1] == 0 && xb[2] == 0 && xb[3] == 0);
      for (int q = 0; q < 4; q++) {
        c[4 * h + q] = xb[q] - u[j + 4 * h + q];
        if (!blank[h] && xb[q] != 0) k[h] |= (__mmask16)(0xF << (4 * q));
      }
    }
    const vw c0 = (vw)spreadRows(c), c1 = (vw)spreadRows(c + 4), x0 = (vw)spreadRows(x + j), x1 = two ? (vw)spreadRows(x + j + 4) : x0;
    vw a0 = (vw){0}, a1 = (vw){0};
    /* t = c·B, or x·A + c·B in the rows of mask k: (x·A) + (c·B) is axpy's t = x·A; t = t + c·B. */
#define UPD(r, cv, xv, kk, g)                                                                                   \
  {                                                                                                             \
    const vw bg = bcast4(Bv + 4 * (g));                                                                         \
    vw t = (cv) * bg;                                                                                           \
    if (kk) t = (vw)_mm512_mask_blend_ps((kk), (__m512)t, (__m512)((xv) * bcast4(A + 4 * (g)) + t));           \
    stw((r) + 16 * (g), ldw((r) + 16 * (g)) + t);                                                               \
  }
    for (int g = 0; g < g8; g++) {
      if (nd) {
        const vw w = bcast4(y + 4 * g);
        a0 = a0 + ldw(d0 + 16 * g) * w;
        a1 = a1 + ldw(d1 + 16 * g) * w;
      }
      UPD(r0, c0, x0, k[0], g)
      if (two) UPD(r1, c1, x1, k[1], g)
    }
    if (nd && g8 < g4) {
      const vw w = bcast4(y + 4 * g8);
      a0 = a0 + ldw(d0 + 16 * g8) * w;
      a1 = a1 + ldw(d1 + 16 * g8) * w;
    }
    /* Units n & ~7 … n − 1: upd4's two-term tail r + (c·B + 0·0) in blank blocks; rowUpdate2's own expression elsewhere.
       The last, partial group (units n & ~3 … n − 1) under a lane mask: its padding lanes are neither read from B nor written. */
    for (int h = 0; h < 1 + two; h++) {
      float* r = h ? r1 : r0;
      const vw cv = h ? c1 : c0, xv = h ? x1 : x0;
      if (blank[h]) {
        if (g8 < g4) stw(r + 16 * g8, ldw(r + 16 * g8) + (cv * bcast4(Bv + 4 * g8) + (vw){0}));
        if (nt) _mm512_mask_storeu_ps(r + 16 * g4, lt, (__m512)(ldw(r + 16 * g4) + (cv * bt + (vw){0})));
      } else {
        if (g8 < g4) UPD(r, cv, xv, k[h], g8)
        if (nt) {
          vw t = cv * bt;
          if (k[h]) t = (vw)_mm512_mask_blend_ps(k[h], (__m512)t, (__m512)(xv * at + t));
          _mm512_mask_storeu_ps(r + 16 * g4, lt, (__m512)(ldw(r + 16 * g4) + t));
        }
      }
    }
#undef UPD
    if (nd) {
      packedDotFinish(a0, d0, y, n, u + j + 8);
      if (nd > 1) packedDotFinish(a1, d1, y, n, u + j + 12);
    }
  }
}
#endif

/* ---- Tangent passes (layers ≥ 2) ---- */

void FN(k_matVec2)(char* B, uint32_t out_, uint32_t A_, uint32_t x_, uint32_t B2_, uint32_t w_, int n, int m, uint32_t b_) {
  float* out = F(out_);
  const float *A = F(A_), *x = F(x_), *Bm = F(B2_), *w = F(w_), *b = PF(b_);
#ifdef NP_FAST
  for (int i = 0; i < n; i += 4) {
    const int R = n - i < 4 ? n - i : 4;
    float s[4];
    const float* a0 = A + (size_t)i * m;
    const float* b0 = Bm + (size_t)i * m;
    if (R == 4) dot2x4(a0, b0, m, x, w, m, s);
    else for (int q = 0; q < R; q++) s[q] = dot2(a0 + (size_t)q * m, x, b0 + (size_t)q * m, w, m);
    for (int q = 0; q < R; q++) out[i + q] = b ? s[q] + b[i + q] : s[q];
  }
  return;
#endif
  const int m4 = m & ~3;
  for (int i = 0; i < n; i += 4) {
    const int R = n - i < 4 ? n - i : 4;
    const float *a0 = A + (size_t)i * m, *a1 = R > 1 ? a0 + m : a0, *a2 = R > 2 ? a0 + 2 * m : a0, *a3 = R > 3 ? a0 + 3 * m : a0;
    const float *b0 = Bm + (size_t)i * m, *b1 = R > 1 ? b0 + m : b0, *b2 = R > 2 ? b0 + 2 * m : b0, *b3 = R > 3 ? b0 + 3 * m : b0;
    v4 c0 = spl4(0), c1 = spl4(0), c2 = spl4(0), c3 = spl4(0);
    for (int j = 0; j < m4; j += 4) {
      const v4 xv = ld4(x + j), wv = ld4(w + j);
      c0 = c0 + (ld4(a0 + j) * xv + ld4(b0 + j) * wv);
      c1 = c1 + (ld4(a1 + j) * xv + ld4(b1 + j) * wv);
      c2 = c2 + (ld4(a2 + j) * xv + ld4(b2 + j) * wv);
      c3 = c3 + (ld4(a3 + j) * xv + ld4(b3 + j) * wv);
    }
    float s0 = hsum(c0), s1 = hsum(c1), s2 = hsum(c2), s3 = hsum(c3);
    for (int j = m4; j < m; j++) {
      const float xs = x[j], ws = w[j];
      s0 += a0[j] * xs + b0[j] * ws;
      s1 += a1[j] * xs + b1[j] * ws;
      s2 += a2[j] * xs + b2[j] * ws;
      s3 += a3[j] * xs + b3[j] * ws;
    }
    if (b) {
      s0 += b[i]; if (R > 1) s1 += b[i + 1];
      if (R > 2) s2 += b[i + 2]; if (R > 3) s3 += b[i + 3];
    }
    out[i] = s0;
    if (R > 1) out[i + 1] = s1;
    if (R > 2) out[i + 2] = s2;
    if (R > 3) out[i + 3] = s3;
  }
}

void FN(k_matTVec2x2)(char* B, uint32_t oA, uint32_t oB, uint32_t W_, uint32_t a_, uint32_t b_, uint32_t V_, uint32_t c_, uint32_t d_, int n, int m) {
  float *outA = F(oA), *outB = F(oB);
  const float *W = F(W_), *a = F(a_), *b = F(b_), *V = F(V_), *c = F(c_), *d = F(d_);
  memset(outA, 0, (size_t)m * 4);
  memset(outB, 0, (size_t)m * 4);
  const int m4 = m & ~3;
  for (int i = 0; i < n; i += 2) {
    const int two = i + 1 < n;
    const float *w0 = W + (size_t)i * m, *w1 = two ? w0 + m : w0, *v0 = V + (size_t)i * m, *v1 = two ? v0 + m : v0;
    const float z = two ? 1.f : 0.f;
    const float sa0 = a[i], sb0 = b[i], sc0 = c[i], sd0 = d[i];
    const float sa1 = two ? a[i + 1] : 0.f, sb1 = two ? b[i + 1] : 0.f, sc1 = two ? c[i + 1] : 0.f, sd1 = two ? d[i + 1] : 0.f;
    const float qa1 = sa1 * z, qb1 = sb1 * z, qc1 = sc1 * z, qd1 = sd1 * z;
    int j = 0;
#define T22(LD, ST)                                                                              \
  {                                                                                              \
    const NC(LD(w0 + j)) x0 = LD(w0 + j), x1 = LD(w1 + j), y0 = LD(v0 + j), y1 = LD(v1 + j); \
    ST(outA + j, LD(outA + j) + ((sa0 * x0 + qa1 * x1) + (sc0 * y0 + qc1 * y1)));                \
    ST(outB + j, LD(outB + j) + ((sb0 * x0 + qb1 * x1) + (sd0 * y0 + qd1 * y1)));                \
  }
    FOR_W(j, m4) T22(ldw, stw)
    FOR_4(j, m4) T22(ld4, st4)
    for (; j < m4; j++) T22(LDS, STS)
#undef T22
    for (; j < m; j++) {
      const float x0 = w0[j], x1 = w1[j], y0 = v0[j], y1 = v1[j];
      outA[j] = outA[j] + ((sa0 * x0 + z * sa1 * x1) + (sc0 * y0 + z * sc1 * y1));
      outB[j] = outB[j] + ((sb0 * x0 + z * sb1 * x1) + (sd0 * y0 + z * sd1 * y1));
    }
  }
}

/* ---- The recurrent network: W += Σ_k s_k Σ_t u_k[t] v_k[t]ᵀ (addOutersT of asm/kernels.ts) ---- */

/*
 * Blocks of four rows; per element W[i][j] the wasm kernel adds c[(k, t)][r] · v_k[t][j]
 * for every (k, t) in order onto the loaded W (vector and scalar parts alike), and the
 * rows past the last block of four take accRow1 per (k, t) with c ≠ 0. Elementwise in j,
 * so the register block may be VW wide.
 */
void FN(k_addOutersT)(char* B, uint32_t W_, int n, int m, int K, int T, uint32_t desc_, uint32_t cbuf_) {
  float* W = F(W_);
  const Desc* desc = (const Desc*)(B + desc_);
  float* cb = F(cbuf_);
  const int m4 = m & ~3;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    int q = 0;
    for (int k = 0; k < K; k++) {
      const float s = desc[k].s;
      const float* u = F(desc[k].u);
      for (int t = 0; t < T; t++, q++) for (int r = 0; r < 4; r++) cb[4 * q + r] = s * u[(size_t)t * n + i + r];
    }
    float *r0 = W + (size_t)i * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
    int j = 0;
    /* Two chunks of VW at once first: each accumulator is a chain of K·T dependent adds, so four chains
       leave the adder waiting on its latency; eight hide it. Every element still takes its (k, t) terms
       in the same order (the bytes of the one-chunk loop below). */
    for (; j + 2 * VW <= m4; j += 2 * VW) {
      vw a0 = ldw(r0 + j), a1 = ldw(r1 + j), a2 = ldw(r2 + j), a3 = ldw(r3 + j);
      vw b0 = ldw(r0 + j + VW), b1 = ldw(r1 + j + VW), b2 = ldw(r2 + j + VW), b3 = ldw(r3 + j + VW);
      q = 0;
      for (int k = 0; k < K; k++) {
        const float* v = F(desc[k].v) + j;
        for (int t = 0; t < T; t++, q++) {
          const float* c = cb + 4 * q;
          const vw x0 = ldw(v + (size_t)t * m), x1 = ldw(v + (size_t)t * m + VW);
          a0 = a0 + c[0] * x0; a1 = a1 + c[1] * x0; a2 = a2 + c[2] * x0; a3 = a3 + c[3] * x0;
          b0 = b0 + c[0] * x1; b1 = b1 + c[1] * x1; b2 = b2 + c[2] * x1; b3 = b3 + c[3] * x1;
        }
      }
      stw(r0 + j, a0); stw(r1 + j, a1); stw(r2 + j, a2); stw(r3 + j, a3);
      stw(r0 + j + VW, b0); stw(r1 + j + VW, b1); stw(r2 + j + VW, b2); stw(r3 + j + VW, b3);
    }
    FOR_W(j, m4) {
      vw a0 = ldw(r0 + j), a1 = ldw(r1 + j), a2 = ldw(r2 + j), a3 = ldw(r3 + j);
      q = 0;
      for (int k = 0; k < K; k++) {
        const float* v = F(desc[k].v) + j;
        for (int t = 0; t < T; t++, q++) {
          const float* c = cb + 4 * q;
          const vw x0 = ldw(v + (size_t)t * m);
          a0 = a0 + c[0] * x0; a1 = a1 + c[1] * x0; a2 = a2 + c[2] * x0; a3 = a3 + c[3] * x0;
        }
      }
      stw(r0 + j, a0); stw(r1 + j, a1); stw(r2 + j, a2); stw(r3 + j, a3);
    }
#if VW > 4
    /* The last groups of four (m & ~3 not a multiple of VW: N = 100 leaves one), the block's four rows in one
       vector (rowsLoad: row r's group in lanes 4r … 4r + 3) times [c_r in lanes 4r … 4r + 3]: each element still
       takes a = a + c_r·x per (k, t) in order, in a quarter (VW = 16) or half (VW = 8) of the vector operations. */
    for (; j + 4 <= m4; j += 4) {
      vw a = rowsLoad(r0 + j, (size_t)m);
#if VW == 8
      vw a2 = rowsLoad(r2 + j, (size_t)m);
#endif
      q = 0;
      for (int k = 0; k < K; k++) {
        const float* v = F(desc[k].v) + j;
        for (int t = 0; t < T; t++, q++) {
          const __m128 c4 = _mm_loadu_ps(cb + 4 * q);
          const vw x = bcast4(v + (size_t)t * m);
#if VW == 16
          const vw c = (vw)_mm512_permutexvar_ps(_mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0), _mm512_castps128_ps512(c4));
          a = a + c * x;
#else
          const __m256 c8 = _mm256_castps128_ps256(c4);
          const vw c01 = (vw)_mm256_permutevar8x32_ps(c8, _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0));
          const vw c23 = (vw)_mm256_permutevar8x32_ps(c8, _mm256_set_epi32(3, 3, 3, 3, 2, 2, 2, 2));
          a = a + c01 * x; a2 = a2 + c23 * x;
#endif
        }
      }
#if VW == 16
      const __m512 z = (__m512)a;
      _mm_storeu_ps(r0 + j, _mm512_castps512_ps128(z)); _mm_storeu_ps(r1 + j, _mm512_extractf32x4_ps(z, 1));
      _mm_storeu_ps(r2 + j, _mm512_extractf32x4_ps(z, 2)); _mm_storeu_ps(r3 + j, _mm512_extractf32x4_ps(z, 3));
#else
      _mm_storeu_ps(r0 + j, _mm256_castps256_ps128((__m256)a)); _mm_storeu_ps(r1 + j, _mm256_extractf128_ps((__m256)a, 1));
      _mm_storeu_ps(r2 + j, _mm256_castps256_ps128((__m256)a2)); _mm_storeu_ps(r3 + j, _mm256_extractf128_ps((__m256)a2, 1));
#endif
    }
#endif
    FOR_4(j, m4) {
      v4 a0 = ld4(r0 + j), a1 = ld4(r1 + j), a2 = ld4(r2 + j), a3 = ld4(r3 + j);
      q = 0;
      for (int k = 0; k < K; k++) {
        const float* v = F(desc[k].v) + j;
        for (int t = 0; t < T; t++, q++) {
          const float* c = cb + 4 * q;
          const v4 x0 = ld4(v + (size_t)t * m);
          a0 = a0 + c[0] * x0; a1 = a1 + c[1] * x0; a2 = a2 + c[2] * x0; a3 = a3 + c[3] * x0;
        }
      }
      st4(r0 + j, a0); st4(r1 + j, a1); st4(r2 + j, a2); st4(r3 + j, a3);
    }
    for (; j < m; j++) {
      float a0 = r0[j], a1 = r1[j], a2 = r2[j], a3 = r3[j];
      q = 0;
      for (int k = 0; k < K; k++) {
        const float* v = F(desc[k].v) + j;
        for (int t = 0; t < T; t++, q++) {
          const float* c = cb + 4 * q;
          const float x = v[(size_t)t * m];
          a0 += c[0] * x; a1 += c[1] * x; a2 += c[2] * x; a3 += c[3] * x;
        }
      }
      r0[j] = a0; r1[j] = a1; r2[j] = a2; r3[j] = a3;
    }
  }
  for (; i < n; i++) {
    float* r0 = W + (size_t)i * m;
    for (int k = 0; k < K; k++) {
      const float s = desc[k].s;
      const float *u = F(desc[k].u), *v = F(desc[k].v);
      for (int t = 0; t < T; t++) {
        const float c = s * u[(size_t)t * n + i];
        if (c == 0) continue;
        accRow1(r0, v + (size_t)t * m, c, m);
      }
    }
  }
}

/* ---- The recurrent network's BPTT recursion in one call (rnnBack of asm/kernels.ts) ---- */

/* mulv and lin2 (acc = 0) of asm/kernels.ts: elementwise, so any width gives each element wasm's expression. */
static inline void mulvN(float* out, const float* a, const float* b, int n) {
  int j = 0;
  FOR_W(j, n) stw(out + j, ldw(a + j) * ldw(b + j));
  FOR_4(j, n) st4(out + j, ld4(a + j) * ld4(b + j));
  for (; j < n; j++) out[j] = a[j] * b[j];
}
static inline void lin2N(float* out, float sa, const float* a, float sb, const float* b, int n) {
  int j = 0;
  FOR_W(j, n) stw(out + j, sa * ldw(a + j) + sb * ldw(b + j));
  FOR_4(j, n) st4(out + j, sa * ld4(a + j) + sb * ld4(b + j));
  for (; j < n; j++) out[j] = sa * a[j] + sb * b[j];
}

/*
 * t = T … 1 of the backward pass of src/nets/rnn/rnn.ts (PAPER.md's recurrent section), the same
 * kernel calls in the same order, without a JS round trip per step:
 *   δₜ = gₜ ⊙ σ'(aₜ)  [then δₜ = α δₜ + 0·δₜ when leaky];
 *   gₜ₋₁ = B_Jᵀ δₜ and uₜ = Jᵀ hₜ (one pass over J when B_J = J: flag 4), [then gₜ₋₁ += (1 − α) gₜ].
 * G, D, H hold rows t = 0 … T (N floats each); S (σ'), UJ rows t = 1 … T from 0. flags: 1 gₜ₋₁ at t = 1 too
 * (needG0), 2 uₜ (needUJ), 4 symmetric feedback, 8 leaky (α ≠ 1).
 */
void FN(k_rnnBack)(char* B, uint32_t G_, uint32_t S_, uint32_t D_, uint32_t H_, uint32_t UJ_, uint32_t J_, uint32_t BJ_, int N, int T,
  float leak, float rest, int flags) {
  const size_t row = (size_t)N * 4;
  const int needG0 = flags & 1, needUJ = flags & 2, sym = flags & 4, leaky = flags & 8;
  for (int t = T; t >= 1; t--) {
    float* delta = F(D_ + row * t);
    const float* g = F(G_ + row * t);
    mulvN(delta, g, F(S_ + row * (t - 1)), N);
    if (leaky) lin2N(delta, leak, delta, 0.f, delta, N);
    const int wantG = t > 1 || needG0;
    const uint32_t gp = G_ + (uint32_t)(row * (t - 1)), uj = UJ_ + (uint32_t)(row * (t - 1)), h = H_ + (uint32_t)(row * t);
    const uint32_t dl = D_ + (uint32_t)(row * t);
    if (wantG && needUJ && sym) FN(k_matTVec2)(B, gp, uj, J_, dl, h, N, N);
    else {
      if (wantG) FN(k_matTVec)(B, gp, BJ_, dl, N, N);
      if (needUJ) FN(k_matTVec)(B, uj, J_, h, N, N);
    }
    if (wantG && leaky) lin2N(F(gp), 1.f, F(gp), rest, g, N);
  }
}

/* ---- The recurrent network's forward recursion in one call (rnnFwd of asm/kernels.ts) ---- */

/*
 * tanhv of asm/kernels.ts, elementwise (so any width gives each element wasm's floats), for n a multiple
 * of four (wasm's scalar tail is Mathf.tanh, which has no twin here: the caller keeps such n in wasm).
 * tanh|z| = −m / (2 + m), m = expm1(−2|z|) by x = k ln2 + r and the Taylor series of expm1(r) to r⁷;
 * each operation the wasm lane's: max(x, −87) (a blend: x NaN stays NaN), nearest as the 1.5·2²³
 * round trip (round half to even for |x·log₂e| ≤ 126, exact), one IEEE op at a time. The same bits for
 * every input but NaN (checked over all 2³² patterns): a NaN in gives a NaN out on both, but wasm's
 * f32x4.max returns the engine's canonical NaN while this keeps the payload and sets the sign.
 */
#define TANH_BODY(T, IT)                                                                                  \
  static inline void CAT(tanhBody_, T)(float* y, float* d, T zv) {                                     \
    const T lo = (T){0} - 87.f;                                                                          \
    const IT sign = (IT){0} + (int32_t)0x80000000u;                                                     \
    T ab; { IT b; memcpy(&b, &zv, sizeof b); b &= ~sign; memcpy(&ab, &b, sizeof b); }                    \
    T x = ab * -2.f;                                                                                     \
    { const IT lt = x < lo; IT xi, li; memcpy(&xi, &x, sizeof xi); memcpy(&li, &lo, sizeof li);          \
      xi = (lt & li) | (~lt & xi); memcpy(&x, &xi, sizeof xi); }                                         \
    const T big = (T){0} + 12582912.f;                                                                   \
    const T kk = (x * 1.4426950408889634f + big) - big;                                                  \
    const T r = (x - kk * 0.693145751953125f) - kk * 1.428606765330187e-6f;                              \
    T p = (T){0} + (float)(1.0 / 5040);                                                                  \
    p = p * r + (float)(1.0 / 720);                                                                      \
    p = p * r + (float)(1.0 / 120);                                                                      \
    p = p * r + (float)(1.0 / 24);                                                                       \
    p = p * r + (float)(1.0 / 6);                                                                        \
    p = p * r + 0.5f;                                                                                    \
    p = p * r + 1.f;                                                                                     \
    const T q = p * r;                                                                                   \
    const IT ei = (__builtin_convertvector(kk, IT) + 127) << 23;                                         \
    T e; memcpy(&e, &ei, sizeof e);                                                                      \
    const T m = e * q + (e - 1.f);                                                                       \
    T t = -m / (m + 2.f);                                                                                \
    { IT ti, zi; memcpy(&ti, &t, sizeof ti); memcpy(&zi, &zv, sizeof zi); ti |= zi & sign; memcpy(&t, &ti, sizeof t); } \
    memcpy(y, &t, sizeof t);                                                                             \
    const T dd = 1.f - t * t;                                                                            \
    memcpy(d, &dd, sizeof dd);                                                                           \
  }
typedef int32_t v4i __attribute__((vector_size(16)));
typedef int32_t vwi __attribute__((vector_size(VW * 4)));
TANH_BODY(vw, vwi)
TANH_BODY(v4, v4i)

static inline void tanhN(float* y, float* d, const float* z, int n) {
  int j = 0;
  FOR_W(j, n) CAT(tanhBody_, vw)(y + j, d + j, ldw(z + j));
  FOR_4(j, n) CAT(tanhBody_, v4)(y + j, d + j, ld4(z + j));
}

/*
 * t = 1 … T of the forward pass of src/nets/rnn/rnn.ts after the input projection, the same kernel
 * calls in the same order as the per-step loop: aₜ = 0 past the rows; aₜ += J hₜ₋₁ (t > 1);
 * rₜ = tanh aₜ, σ'ₜ = 1 − rₜ²; [hₜ = (1 − α) hₜ₋₁ + α rₜ, flag 8]. N must be a multiple of four.
 */
void FN(k_rnnFwd)(char* B, uint32_t A_, uint32_t H_, uint32_t R_, uint32_t S_, uint32_t J_, int N, int T, int rows,
  float leak, float rest, int flags) {
  const size_t row = (size_t)N * 4;
  const int leaky = flags & 8;
#ifndef NP_FAST
  /* J packed once for the T − 1 products J hₜ₋₁ (matVecPacked: matVec's floats). */
  float* P = T >= 3 && N % 4 == 0 ? packScratch((size_t)N * N) : NULL;
  if (P) packRows4(P, F(J_), N, N);
#endif
  for (int t = 1; t <= T; t++) {
    const uint32_t a = A_ + (uint32_t)(row * (t - 1)), r = R_ + (uint32_t)(row * (t - 1));
    if (t > rows) memset(F(a), 0, row);
#ifndef NP_FAST
    if (t > 1 && P) matVecPacked(F(a), P, F(J_), F(H_ + (uint32_t)(row * (t - 1))), N, N, F(a));
    else
#endif
    if (t > 1) FN(k_matVec)(B, a, J_, H_ + (uint32_t)(row * (t - 1)), N, N, a);
    tanhN(F(r), F(S_ + (uint32_t)(row * (t - 1))), F(a), N);
    if (leaky) lin2N(F(H_ + (uint32_t)(row * t)), rest, F(H_ + (uint32_t)(row * (t - 1))), leak, F(r), N);
  }
}

/* ---- The online step's softplus (activate of asm/kernels.ts, activation code 0) ---- */

/*
 * activate's four-lane softplus body, elementwise (so any width gives each element wasm's floats), for
 * the units j < n & ~3: wasm's scalar tail (j ≥ n & ~3) is act(), AssemblyScript's Mathf.exp and
 * Mathf.log1p, which have no twin here, so the caller runs those few units in wasm on the same memory.
 * t = βz; q = exp(−|t|) as vexpNeg: x = max(−|t|, −87) (a blend: x NaN stays NaN), k = nearest(x·log₂e)
 * as the 1.5·2²³ round trip (round half to even, exact for |x·log₂e| ≤ 126), r = x − k·ln2 (Cody–Waite),
 * Horner to r⁶, times 2ᵏ from the exponent bits; log1p(q) = 2 atanh(s), s = q / (q + 2), the odd series
 * to s¹³ (vlog1p01); y = (max(t, 0) + log1p(q)) / β and σ' = (t ≥ 0 ? 1 : q) / (1 + q). One IEEE op at
 * a time, in wasm's order. The same bits for every z but NaN (scripts/softplus-exhaustive.ts checks all
 * 2³² patterns): a NaN in gives a NaN out on both, its payload and sign not promised.
 * Built without FMA contraction in every copy (native-fast too: its table takes the exact one), so that
 * native-fast's activations are wasm's as well.
 */
#define SOFTPLUS_BODY(T, IT)                                                                              \
  static inline void CAT(softplusBody_, T)(float* y, float* d, T zv, float beta) {                     \
    const T b = (T){0} + beta, zero = (T){0}, one = (T){0} + 1.f, lo = (T){0} - 87.f;                   \
    const IT sign = (IT){0} + (int32_t)0x80000000u;                                                     \
    const T t = b * zv;                                                                                  \
    T x; { IT ti; memcpy(&ti, &t, sizeof ti); ti |= sign; memcpy(&x, &ti, sizeof x); }                   \
    { const IT lt = x < lo; IT xi, li; memcpy(&xi, &x, sizeof xi); memcpy(&li, &lo, sizeof li);          \
      xi = (lt & li) | (~lt & xi); memcpy(&x, &xi, sizeof xi); }                                         \
    const T big = (T){0} + 12582912.f;                                                                   \
    const T kk = (x * 1.4426950408889634f + big) - big;                                                  \
    const T r = (x - kk * 0.693145751953125f) - kk * 1.428606765330187e-6f;                              \
    T p = (T){0} + (float)(1.0 / 720);                                                                   \
    p = p * r + (float)(1.0 / 120);                                                                      \
    p = p * r + (float)(1.0 / 24);                                                                       \
    p = p * r + (float)(1.0 / 6);                                                                        \
    p = p * r + 0.5f;                                                                                    \
    p = p * r + 1.f;                                                                                     \
    p = p * r + 1.f;                                                                                     \
    const IT ei = (__builtin_convertvector(kk, IT) + 127) << 23;                                         \
    T e; memcpy(&e, &ei, sizeof e);                                                                      \
    const T q = p * e;                                                                                   \
    const T s = q / (q + 2.f);                                                                           \
    const T s2 = s * s;                                                                                  \
    T l = (T){0} + (float)(1.0 / 13);                                                                    \
    l = l * s2 + (float)(1.0 / 11);                                                                      \
    l = l * s2 + (float)(1.0 / 9);                                                                       \
    l = l * s2 + (float)(1.0 / 7);                                                                       \
    l = l * s2 + (float)(1.0 / 5);                                                                       \
    l = l * s2 + (float)(1.0 / 3);                                                                       \
    l = l * s2 + 1.f;                                                                                    \
    const T lg = (s + s) * l;                                                                            \
    T mx; { const IT gt = t > zero; IT ti, zi; memcpy(&ti, &t, sizeof ti); memcpy(&zi, &zero, sizeof zi); \
      ti = (gt & ti) | (~gt & zi); memcpy(&mx, &ti, sizeof mx); }                                        \
    const T yy = (mx + lg) / b;                                                                          \
    memcpy(y, &yy, sizeof yy);                                                                           \
    T num; { const IT ge = t >= zero; IT oi, qi; memcpy(&oi, &one, sizeof oi); memcpy(&qi, &q, sizeof qi); \
      oi = (ge & oi) | (~ge & qi); memcpy(&num, &oi, sizeof num); }                                      \
    const T dd = num / (one + q);                                                                        \
    memcpy(d, &dd, sizeof dd);                                                                           \
  }
SOFTPLUS_BODY(vw, vwi)
SOFTPLUS_BODY(v4, v4i)

#ifdef NP_FAST
/* Not built in the native-fast copies: their table points at the exact one (native/addon.c). */
#else
/* y, d, z: offsets; n a multiple of four (the units j < n & ~3 of activate). */
void FN(k_softplusHead)(char* B, uint32_t y_, uint32_t d_, uint32_t z_, int n, float beta) {
  float *y = F(y_), *d = F(d_);
  const float* z = F(z_);
  int j = 0;
  FOR_W(j, n) CAT(softplusBody_, vw)(y + j, d + j, ldw(z + j), beta);
  FOR_4(j, n) CAT(softplusBody_, v4)(y + j, d + j, ld4(z + j), beta);
}

/*
 * forwardHidden of src/core/wasm.ts for softplus in one call, its kernels in its order: z = W x [+ b], the
 * softplus head (j < n & ~3), and u = Wᵀy when u ≠ 0 and n is a multiple of four (else the caller runs the
 * wasm tail, then matTVec): one crossing into C for a hidden layer where there were three.
 */
void FN(k_forwardSp)(char* B, uint32_t z_, uint32_t y_, uint32_t d_, uint32_t u_, uint32_t W_, uint32_t x_, uint32_t b_, int n, int m, float beta) {
  FN(k_matVec)(B, z_, W_, x_, n, m, b_);
  FN(k_softplusHead)(B, y_, d_, z_, n & ~3, beta);
  if (u_ && (n & 3) == 0) FN(k_matTVec)(B, u_, W_, y_, n, m);
}
#endif
