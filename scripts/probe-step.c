/*
 * The bare online step's native limit on this CPU: a plain C program doing the
 * work of one step of the paper network (784-170-130-100-70-10, softplus β = 10,
 * bp + Oja, batch 1), the way our fast step does it (layer 1 transposed, only the
 * nonzero pixels' rows read forward, Oja factored, each layer's backward pass and
 * update in one sweep), with nothing held back: -O3 -march=native -ffast-math, so
 * FMA and any reduction order the compiler likes, and four (two) rows per pass in
 * every loop over rows, so that no sum waits on one long chain of dependent adds
 * and no row's output vector is loaded and stored once per row (with one row per
 * pass the layer-1 sweep was latency-bound: 25k steps/s against 35k on the Intel
 * Xeon of docs/benchmarks.md). Not our numbers (no bit-identity
 * here): the speed the hardware allows, for `npm run bench:jax` (scripts/probe-step.mjs
 * compiles and runs it). Prints one JSON line: steps per second of wall time and of
 * CPU time over `steps` steps cycling through the first 250 test images.
 *
 * A third argument K > 1 (`layer1_writeback_every`) writes layer 1's update back on one
 * step in K only; on the others the sweep still reads every row and forms u_j and
 * x_j − u_j, but stores nothing. That is no longer a training step: it bounds from above
 * what any deferred form of layer 1 could gain, since it leaves out the flush's
 * arithmetic and the low-rank corrections that such a form must add (docs/benchmarks.md).
 *
 * A fourth argument `deferred` makes layer 1 a real deferred form with the same period K, which is
 * a training step (the same weights up to rounding: the sums are reordered, so over many passes
 * through the images the two drift apart, as reorderings of a chaotic sum do). Its update is
 * ΔWTⱼ = xⱼ(A + B) − uⱼB (PAPER.md's Oja term factored, A = −θ_bp e₁, B = θ_oja y₁). The sparse
 * part, the rows of the nonzero pixels, is applied at once. The dense part −u Bᵀ is kept as up to
 * K − 1 pending rank-1 terms: the forward pass subtracts Σᵣ Bᵣ (uᵣ·x), the read-only u pass
 * subtracts Σᵣ uᵣⱼ (Bᵣ·y₁), and on one step in K the pass over WT applies them (a rank-(K − 1)
 * update, two rows at a time) before its dot and writes the rows back with that step's own update.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KMAX 64 /* the deferred form's longest period (at most KMAX − 1 terms pending) */
#define C1 16   /* floats per chunk of a row in the deferred form's passes */
#define S1MAX 176 /* layer 1's row stride, (170 + 7) & ~7 */

#define L 5
static const int dims[L + 1] = {784, 170, 130, 100, 70, 10};
static const float BP = 0.0068f, OJA = 0.0053f, BETA = 10.f;

static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "t10k-images-idx3-ubyte";
  const int steps = argc > 2 ? atoi(argv[2]) : 20000;
  const int every = argc > 3 ? atoi(argv[3]) : 1;
  const int deferred = argc > 4 && strcmp(argv[4], "deferred") == 0;
  if (steps < 1 || every < 1) { fprintf(stderr, "probe-step: steps and the write-back period must be positive integers\n"); return 1; }
  if (argc > 4 && !deferred) { fprintf(stderr, "probe-step: the fourth argument can only be 'deferred', got '%s'\n", argv[4]); return 1; }
  if (deferred && every > KMAX) { fprintf(stderr, "probe-step: a deferred form's period is at most %d\n", KMAX); return 1; }
  if (steps > 100000000 || every > 1000000000) { fprintf(stderr, "probe-step: steps at most 10^8, the period at most 10^9\n"); return 1; }
  FILE* f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "probe-step: cannot open %s\n", path); return 1; }
  static unsigned char img[250 * 784];
  fseek(f, 16, SEEK_SET);
  if (fread(img, 1, sizeof img, f) != sizeof img) { fprintf(stderr, "probe-step: short read\n"); return 1; }
  fclose(f);
  const int n1 = dims[1], s1 = (n1 + 7) & ~7, m1 = dims[0];
  float* WT = aligned_alloc(64, sizeof(float) * m1 * s1);
  float* W[L + 1];
  float *y[L + 1], *d[L + 1], *e[L + 1], *u[L + 1], *g = aligned_alloc(64, 4 * 1024), *v = aligned_alloc(64, 4 * 1024);
  srand(1);
  for (int i = 0; i < m1 * s1; i++) WT[i] = (rand() / (float)RAND_MAX * 2 - 1) * sqrtf(6.f / (784 + 170));
  for (int l = 2; l <= L; l++) {
    W[l] = aligned_alloc(64, sizeof(float) * dims[l] * dims[l - 1] + 64);
    for (int i = 0; i < dims[l] * dims[l - 1]; i++) W[l][i] = (rand() / (float)RAND_MAX * 2 - 1) * sqrtf(6.f / (dims[l] + dims[l - 1]));
  }
  for (int l = 0; l <= L; l++) {
    const int k = (dims[l] + 15) & ~15;
    y[l] = aligned_alloc(64, 4 * 1024); d[l] = aligned_alloc(64, 4 * 1024); e[l] = aligned_alloc(64, 4 * 1024); u[l] = aligned_alloc(64, 4 * 1024);
    (void)k;
    memset(y[l], 0, 4 * 1024); /* the rows' padding lanes meet zeros in the deferred form's whole-row dots */
  }
  int idx[784];
  static float A[1024] __attribute__((aligned(64))), B[1024] __attribute__((aligned(64)));
  /* The deferred form's pending terms: uᵣ (KMAX rows of 784) and Bᵣ (KMAX rows of s1). */
  float* Up = aligned_alloc(64, sizeof(float) * KMAX * 784);
  float* Bp = aligned_alloc(64, sizeof(float) * KMAX * s1);
  int np = 0;
  const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  float sink = 0;
  for (int s = 0; s < steps; s++) {
    const unsigned char* im = img + (s % 250) * 784;
    const int label = s % 10;
    int cnt = 0;
    for (int j = 0; j < m1; j++) { y[0][j] = im[j] * (1.f / 255.f); if (im[j]) idx[cnt++] = j; }
    /* Layer 1 forward over the nonzero pixels' rows. */
    float* z = d[1];
    memset(z, 0, 4 * n1);
    { int t = 0;
      for (; t + 4 <= cnt; t += 4) { const float xa = y[0][idx[t]], xb = y[0][idx[t + 1]], xc = y[0][idx[t + 2]], xd = y[0][idx[t + 3]];
        const float *ra = WT + (size_t)idx[t] * s1, *rb = WT + (size_t)idx[t + 1] * s1, *rc = WT + (size_t)idx[t + 2] * s1, *rd = WT + (size_t)idx[t + 3] * s1;
        for (int i = 0; i < n1; i++) z[i] += xa * ra[i] + xb * rb[i] + xc * rc[i] + xd * rd[i]; }
      for (; t < cnt; t++) { const float xj = y[0][idx[t]]; const float* r = WT + (size_t)idx[t] * s1; for (int i = 0; i < n1; i++) z[i] += xj * r[i]; } }
    if (deferred && np > 0) { /* z −= Σᵣ Bᵣ (uᵣ·x) over the nonzero pixels */
      float gam[KMAX] = {0};
      for (int r = 0; r < np; r++) { const float* ur = Up + (size_t)r * 784; float a = 0; for (int t = 0; t < cnt; t++) a += y[0][idx[t]] * ur[idx[t]]; gam[r] = a; }
      for (int r = 0; r < np; r++) { const float g0 = gam[r]; const float* br = Bp + (size_t)r * s1; for (int i = 0; i < n1; i++) z[i] -= g0 * br[i]; }
    }
    for (int l = 1; l <= L; l++) {
      const int n = dims[l], m = dims[l - 1];
      float* zl = d[l];
      if (l > 1) {
        int i = 0;
        for (; i + 4 <= n; i += 4) { const float* r0 = W[l] + (size_t)i * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m; float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (int j = 0; j < m; j++) { const float yj = y[l - 1][j]; a0 += r0[j] * yj; a1 += r1[j] * yj; a2 += r2[j] * yj; a3 += r3[j] * yj; }
          zl[i] = a0; zl[i + 1] = a1; zl[i + 2] = a2; zl[i + 3] = a3; }
        for (; i < n; i++) { const float* r = W[l] + (size_t)i * m; float a = 0; for (int j = 0; j < m; j++) a += r[j] * y[l - 1][j]; zl[i] = a; }
      }
      if (l < L) {
        for (int i = 0; i < n; i++) { const float bz = BETA * zl[i], q = expf(-fabsf(bz)); y[l][i] = (fmaxf(bz, 0) + log1pf(q)) / BETA; d[l][i] = (bz >= 0 ? 1 : q) / (1 + q); }
      } else {
        float mx = -INFINITY, sum = 0;
        for (int i = 0; i < n; i++) mx = fmaxf(mx, zl[i]);
        for (int i = 0; i < n; i++) { y[l][i] = expf(zl[i] - mx); sum += y[l][i]; }
        for (int i = 0; i < n; i++) { y[l][i] /= sum; e[l][i] = y[l][i] - (i == label); }
      }
    }
    /* u_l = W_lᵀ y_l for Oja (l ≥ 2), from the old weights. */
    for (int l = 2; l <= L; l++) {
      const int n = dims[l], m = dims[l - 1];
      memset(u[l], 0, 4 * m);
      { int i = 0;
        for (; i + 4 <= n; i += 4) { const float ya = y[l][i], yb = y[l][i + 1], yc = y[l][i + 2], yd = y[l][i + 3]; const float* r = W[l] + (size_t)i * m;
          for (int j = 0; j < m; j++) u[l][j] += ya * r[j] + yb * r[m + j] + yc * r[2 * m + j] + yd * r[3 * m + j]; }
        for (; i < n; i++) { const float yi = y[l][i]; const float* r = W[l] + (size_t)i * m; for (int j = 0; j < m; j++) u[l][j] += yi * r[j]; } }
    }
    /* Layers L … 2: g = Wᵀe and the update in one sweep, then e_{l-1} = g ⊙ σ'. */
    for (int l = L; l >= 2; l--) {
      const int n = dims[l], m = dims[l - 1];
      memset(g, 0, 4 * m);
      for (int j = 0; j < m; j++) v[j] = y[l - 1][j] - u[l][j];
      int i = 0;
      for (; i + 2 <= n; i += 2) {
        float* r = W[l] + (size_t)i * m; float* q = r + m;
        const float ei = e[l][i], a = -BP * ei, b = OJA * y[l][i], fi = e[l][i + 1], c = -BP * fi, d2 = OJA * y[l][i + 1];
        for (int j = 0; j < m; j++) { const float w = r[j], w2 = q[j], yj = y[l - 1][j], vj = v[j]; g[j] += ei * w + fi * w2; r[j] = w + a * yj + b * vj; q[j] = w2 + c * yj + d2 * vj; }
      }
      for (; i < n; i++) {
        float* r = W[l] + (size_t)i * m;
        const float ei = e[l][i], a = -BP * ei, b = OJA * y[l][i];
        for (int j = 0; j < m; j++) { const float w = r[j]; g[j] += ei * w; r[j] = w + a * y[l - 1][j] + b * v[j]; }
      }
      for (int j = 0; j < m; j++) e[l - 1][j] = g[j] * d[l - 1][j];
    }
    /* Layer 1, one sweep of its rows, four at a time (784 = 4·196): u_j = WT_j·y₁, WT_j += x_j A + (x_j − u_j) B. */
    for (int i = 0; i < n1; i++) { A[i] = -BP * e[1][i]; B[i] = OJA * y[1][i]; }
    if (deferred && np == every - 1) { /* flush: WTⱼ −= Σᵣ uᵣⱼ Bᵣ, then uⱼ and this step's update, two rows at a time */
      for (int j = 0; j < m1; j += 2) {
        float* r0 = WT + (size_t)j * s1; float* r1 = r0 + s1;
        float a0[S1MAX], a1[S1MAX], s0[C1] = {0}, t0[C1] = {0};
        for (int c = 0; c < s1; c += C1) {
          float p0[C1], p1[C1];
          for (int k = 0; k < C1; k++) { p0[k] = r0[c + k]; p1[k] = r1[c + k]; }
          for (int r = 0; r < np; r++) { const float c0 = Up[(size_t)r * 784 + j], c1 = Up[(size_t)r * 784 + j + 1]; const float* br = Bp + (size_t)r * s1 + c; for (int k = 0; k < C1; k++) { p0[k] -= c0 * br[k]; p1[k] -= c1 * br[k]; } }
          for (int k = 0; k < C1; k++) { a0[c + k] = p0[k]; a1[c + k] = p1[k]; s0[k] += p0[k] * y[1][c + k]; t0[k] += p1[k] * y[1][c + k]; }
        }
        float u0 = 0, u1 = 0;
        for (int k = 0; k < C1; k++) { u0 += s0[k]; u1 += t0[k]; }
        const float x0 = y[0][j], x1 = y[0][j + 1], c0 = x0 - u0, c1 = x1 - u1;
        for (int i = 0; i < s1; i++) { r0[i] = a0[i] + x0 * A[i] + c0 * B[i]; r1[i] = a1[i] + x1 * A[i] + c1 * B[i]; }
      }
      np = 0;
    } else if (deferred) { /* uⱼ from the rows read only, less Σᵣ uᵣⱼ (Bᵣ·y₁); the sparse part at once; −u Bᵀ pending */
      float* un = Up + (size_t)np * 784;
      for (int j = 0; j < m1; j += 4) {
        const float* r0 = WT + (size_t)j * s1; const float* r1 = r0 + s1; const float* r2 = r1 + s1; const float* r3 = r2 + s1;
        float u0 = 0, u1 = 0, u2 = 0, u3 = 0;
        for (int i = 0; i < s1; i++) { const float yi = y[1][i]; u0 += r0[i] * yi; u1 += r1[i] * yi; u2 += r2[i] * yi; u3 += r3[i] * yi; }
        un[j] = u0; un[j + 1] = u1; un[j + 2] = u2; un[j + 3] = u3;
      }
      for (int r = 0; r < np; r++) { /* less Σᵣ uᵣ (Bᵣ·y₁) */
        const float* br = Bp + (size_t)r * s1; const float* ur = Up + (size_t)r * 784; float beta = 0;
        for (int i = 0; i < s1; i++) beta += br[i] * y[1][i];
        for (int j = 0; j < m1; j++) un[j] -= beta * ur[j];
      }
      for (int t = 0; t < cnt; t++) { const int j = idx[t]; const float xj = y[0][j]; float* r = WT + (size_t)j * s1; for (int i = 0; i < s1; i++) r[i] += xj * (A[i] + B[i]); }
      memcpy(Bp + (size_t)np * s1, B, sizeof(float) * s1);
      np++;
    } else
    for (int j = 0; j < m1; j += 4) {
      float* r0 = WT + (size_t)j * s1; float* r1 = r0 + s1; float* r2 = r1 + s1; float* r3 = r2 + s1;
      float u0 = 0, u1 = 0, u2 = 0, u3 = 0;
      for (int i = 0; i < n1; i++) { const float yi = y[1][i]; u0 += r0[i] * yi; u1 += r1[i] * yi; u2 += r2[i] * yi; u3 += r3[i] * yi; }
      const float x0 = y[0][j], x1 = y[0][j + 1], x2 = y[0][j + 2], x3 = y[0][j + 3];
      const float c0 = x0 - u0, c1 = x1 - u1, c2 = x2 - u2, c3 = x3 - u3;
      if (s % every == 0) for (int i = 0; i < n1; i++) { const float a = A[i], b = B[i]; r0[i] += x0 * a + c0 * b; r1[i] += x1 * a + c1 * b; r2[i] += x2 * a + c2 * b; r3[i] += x3 * a + c3 * b; }
      else sink += c0 + c1 + c2 + c3; /* keep the dots live: the compiler must not drop the read sweep */
    }
    sink += W[L][0];
  }
  const double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
  if (deferred && np > 0) /* the pending terms, so that the weights below are the step's */
    for (int j = 0; j < m1; j++) for (int r = 0; r < np; r++) for (int i = 0; i < n1; i++) WT[(size_t)j * s1 + i] -= Up[(size_t)r * 784 + j] * Bp[(size_t)r * s1 + i];
  double wsum = 0, wsq = 0; /* a weighted sum and the sum of squares of layer 1's weights, to compare the forms' weights */
  for (int j = 0; j < m1; j++) for (int i = 0; i < n1; i++) { const double w = WT[(size_t)j * s1 + i]; wsum += w * ((j * 7 + i) % 13 - 6.5); wsq += w * w; }
  printf("{\"probe\":\"c-step\",\"steps\":%d,\"%s\":%d,\"steps_per_s\":%.1f,\"steps_per_cpu_s\":%.1f,\"sink\":%.9g,\"layer1_wsum\":%.9g,\"layer1_sumsq\":%.9g}\n", steps,
         deferred ? "layer1_deferred_every" : "layer1_writeback_every", every, steps / wall, steps / cpu, sink, wsum, wsq);
  return 0;
}
