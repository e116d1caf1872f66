/*
 * The N-API face of the native kernels (native/kern.c, compiled once per target):
 * picks the widest path this CPU runs (AVX-512F, AVX2, or the portable one) once at
 * load, or the one NEUROPLASTIC_NATIVE_ISA names (portable | avx2 | avx512, never
 * wider than the CPU has), and exposes each kernel as a function of (base, offsets…).
 * base is the address of the arena's memory (bind), passed as a double (exact below
 * 2⁵³); every other argument is a byte offset into it or a count. Built by
 * scripts/build-native.mjs; loaded by src/core/native.ts.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DECL(S)                                                                                                   \
  void k_matVec##S(char*, uint32_t, uint32_t, uint32_t, int, int, uint32_t);                                      \
  int k_matVecNZ##S(char*, uint32_t, uint32_t, uint32_t, int, int, uint32_t, uint32_t, int);                      \
  void k_matTVec##S(char*, uint32_t, uint32_t, uint32_t, int, int);                                               \
  void k_matTVec2##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int);                          \
  void k_addOuters##S(char*, uint32_t, int, int, int, uint32_t);                                                  \
  void k_backUpdate##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t); \
  void k_matVecT##S(char*, uint32_t, uint32_t, int, uint32_t, uint32_t, int, int, uint32_t);                      \
  void k_inputSweep##S(char*, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, uint32_t); \
  void k_matVec2##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, uint32_t);                 \
  void k_matTVec2x2##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int); \
  void k_addOutersT##S(char*, uint32_t, int, int, int, int, uint32_t, uint32_t);                              \
  void k_matVecs##S(char*, uint32_t, uint32_t, uint32_t, int, int, int);                                        \
  void k_matTVecs##S(char*, uint32_t, uint32_t, uint32_t, int, int, int);                                       \
  void k_rnnBack##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, float, float, int); \
  void k_rnnFwd##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, int, float, float, int);

DECL(_portable)
/* The softplus head has exact copies only: the native-fast tables take these (native/kern.c says why). */
void k_softplusHead_portable(char*, uint32_t, uint32_t, uint32_t, int, float);
/* The softplus layer in one call (exact copies only: native-fast's tables have none, and its layers take three calls). */
#define FWDSP(S) void k_forwardSp##S(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, float);
FWDSP(_portable)
#ifdef NP_X86
FWDSP(_avx2)
FWDSP(_avx512)
void k_softplusHead_avx2(char*, uint32_t, uint32_t, uint32_t, int, float);
/* The first layer in the packed layout (native/kern.c): the exact AVX-512 copy only. */
void k_packT_avx512(char*, uint32_t, uint32_t, int, int, int, int);
void k_matVecTP_avx512(char*, uint32_t, uint32_t, int, uint32_t, uint32_t, int, int, uint32_t);
void k_inputSweepP_avx512(char*, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int);
void k_softplusHead_avx512(char*, uint32_t, uint32_t, uint32_t, int, float);
DECL(_avx2)
DECL(_avx512)
DECL(_avx2fast)
DECL(_avx512fast)
#endif

typedef struct {
  const char* name;
  void (*matVec)(char*, uint32_t, uint32_t, uint32_t, int, int, uint32_t);
  int (*matVecNZ)(char*, uint32_t, uint32_t, uint32_t, int, int, uint32_t, uint32_t, int);
  void (*matTVec)(char*, uint32_t, uint32_t, uint32_t, int, int);
  void (*matTVec2)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int);
  void (*addOuters)(char*, uint32_t, int, int, int, uint32_t);
  void (*backUpdate)(char*, uint32_t, uint32_t, uint32_t, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t);
  void (*matVecT)(char*, uint32_t, uint32_t, int, uint32_t, uint32_t, int, int, uint32_t);
  void (*inputSweep)(char*, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, uint32_t);
  void (*matVec2)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, uint32_t);
  void (*matTVec2x2)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int);
  void (*addOutersT)(char*, uint32_t, int, int, int, int, uint32_t, uint32_t);
  void (*matVecs)(char*, uint32_t, uint32_t, uint32_t, int, int, int);
  void (*matTVecs)(char*, uint32_t, uint32_t, uint32_t, int, int, int);
  void (*rnnBack)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, float, float, int);
  void (*rnnFwd)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, int, float, float, int);
  void (*softplusHead)(char*, uint32_t, uint32_t, uint32_t, int, float);
  void (*forwardSp)(char*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int, int, float);
  /* The packed first layer, or NULL (then its functions are not exported). */
  void (*packT)(char*, uint32_t, uint32_t, int, int, int, int);
  void (*matVecTP)(char*, uint32_t, uint32_t, int, uint32_t, uint32_t, int, int, uint32_t);
  void (*inputSweepP)(char*, uint32_t, int, int, int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, int);
} Table;

/* E: the suffix of the exact copy whose softplus head the table takes (S itself, but for native-fast); FS: forwardSp or NULL. */
#define TABLE(S, E, N, FS, PKT, PKV, PKS) \
  { N, k_matVec##S, k_matVecNZ##S, k_matTVec##S, k_matTVec2##S, k_addOuters##S, k_backUpdate##S, k_matVecT##S, k_inputSweep##S, k_matVec2##S, k_matTVec2x2##S, k_addOutersT##S, k_matVecs##S, k_matTVecs##S, k_rnnBack##S, k_rnnFwd##S, k_softplusHead##E, FS, PKT, PKV, PKS }

static const Table PORTABLE = TABLE(_portable, _portable, "portable", k_forwardSp_portable, NULL, NULL, NULL);
#ifdef NP_X86
static const Table AVX2 = TABLE(_avx2, _avx2, "avx2", k_forwardSp_avx2, NULL, NULL, NULL);
static const Table AVX512 = TABLE(_avx512, _avx512, "avx512", k_forwardSp_avx512, k_packT_avx512, k_matVecTP_avx512, k_inputSweepP_avx512);
static const Table AVX2FAST = TABLE(_avx2fast, _avx2, "avx2+fma", NULL, NULL, NULL, NULL);
static const Table AVX512FAST = TABLE(_avx512fast, _avx512, "avx512+fma", NULL, NULL, NULL, NULL);
#endif
/* Chosen once per process (every thread gets the same path, so the same floats: all paths give the same anyway). */
static const Table* K = NULL;
/* The native-fast path, or NULL where the CPU lacks AVX2 and FMA. */
static const Table* KF = NULL;

static void choose(void) {
  if (K) return;
  const char* want = getenv("NEUROPLASTIC_NATIVE_ISA");
  K = &PORTABLE;
#ifdef NP_X86
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f"), has2 = __builtin_cpu_supports("avx2");
  if (want && strcmp(want, "portable") == 0) K = &PORTABLE;
  else if (want && strcmp(want, "avx2") == 0) K = has2 ? &AVX2 : &PORTABLE;
  else if (has512) K = &AVX512;
  else if (has2) K = &AVX2;
  const hasFma = __builtin_cpu_supports("fma");
  if (want && strcmp(want, "portable") == 0) KF = NULL;
  else if (want && strcmp(want, "avx2") == 0) KF = has2 && hasFma ? &AVX2FAST : NULL;
  else if (has512 && hasFma) KF = &AVX512FAST;
  else if (has2 && hasFma) KF = &AVX2FAST;
#else
  (void)want;
#endif
}

#define MAXA 16
#define ARGS(n)                                               \
  size_t argc = (n);                                          \
  napi_value a[MAXA];                                         \
  void* data = NULL;                                          \
  napi_get_cb_info(env, info, &argc, a, NULL, &data);         \
  if (argc < (n)) { napi_throw_error(env, NULL, "neuroplastic native: too few arguments"); return NULL; } \
  const Table* K = (const Table*)data;                        \
  char* B = base(env, a[0])

static char* base(napi_env env, napi_value v) { double d = 0; napi_get_value_double(env, v, &d); return (char*)(uintptr_t)d; }
static uint32_t u32(napi_env env, napi_value v) { uint32_t x = 0; napi_get_value_uint32(env, v, &x); return x; }
static int i32(napi_env env, napi_value v) { int32_t x = 0; napi_get_value_int32(env, v, &x); return x; }
static float f32(napi_env env, napi_value v) { double x = 0; napi_get_value_double(env, v, &x); return (float)x; }
#define U(i) u32(env, a[i])
#define R(i) f32(env, a[i])
#define I(i) i32(env, a[i])

static napi_value f_matVec(napi_env env, napi_callback_info info) { ARGS(7); K->matVec(B, U(1), U(2), U(3), I(4), I(5), U(6)); return NULL; }
static napi_value f_matVecNZ(napi_env env, napi_callback_info info) {
  ARGS(9);
  napi_value r;
  napi_create_int32(env, K->matVecNZ(B, U(1), U(2), U(3), I(4), I(5), U(6), U(7), I(8)), &r);
  return r;
}
static napi_value f_matTVec(napi_env env, napi_callback_info info) { ARGS(6); K->matTVec(B, U(1), U(2), U(3), I(4), I(5)); return NULL; }
static napi_value f_matTVec2(napi_env env, napi_callback_info info) { ARGS(8); K->matTVec2(B, U(1), U(2), U(3), U(4), U(5), I(6), I(7)); return NULL; }
static napi_value f_addOuters(napi_env env, napi_callback_info info) { ARGS(6); K->addOuters(B, U(1), I(2), I(3), I(4), U(5)); return NULL; }
static napi_value f_backUpdate(napi_env env, napi_callback_info info) {
  ARGS(11);
  K->backUpdate(B, U(1), U(2), U(3), U(4), I(5), I(6), I(7), U(8), U(9), U(10));
  return NULL;
}
static napi_value f_matVecT(napi_env env, napi_callback_info info) { ARGS(9); K->matVecT(B, U(1), U(2), I(3), U(4), U(5), I(6), I(7), U(8)); return NULL; }
static napi_value f_inputSweep(napi_env env, napi_callback_info info) {
  ARGS(14);
  K->inputSweep(B, U(1), I(2), I(3), I(4), U(5), U(6), U(7), U(8), U(9), U(10), I(11), I(12), U(13));
  return NULL;
}
static napi_value f_matVec2(napi_env env, napi_callback_info info) { ARGS(9); K->matVec2(B, U(1), U(2), U(3), U(4), U(5), I(6), I(7), U(8)); return NULL; }
static napi_value f_matTVec2x2(napi_env env, napi_callback_info info) {
  ARGS(11);
  K->matTVec2x2(B, U(1), U(2), U(3), U(4), U(5), U(6), U(7), U(8), I(9), I(10));
  return NULL;
}
static napi_value f_matVecs(napi_env env, napi_callback_info info) { ARGS(7); K->matVecs(B, U(1), U(2), U(3), I(4), I(5), I(6)); return NULL; }
static napi_value f_matTVecs(napi_env env, napi_callback_info info) { ARGS(7); K->matTVecs(B, U(1), U(2), U(3), I(4), I(5), I(6)); return NULL; }
static napi_value f_rnnBack(napi_env env, napi_callback_info info) {
  ARGS(13);
  K->rnnBack(B, U(1), U(2), U(3), U(4), U(5), U(6), U(7), I(8), I(9), R(10), R(11), I(12));
  return NULL;
}
static napi_value f_rnnFwd(napi_env env, napi_callback_info info) {
  ARGS(12);
  K->rnnFwd(B, U(1), U(2), U(3), U(4), U(5), I(6), I(7), I(8), R(9), R(10), I(11));
  return NULL;
}
static napi_value f_softplusHead(napi_env env, napi_callback_info info) { ARGS(6); K->softplusHead(B, U(1), U(2), U(3), I(4), R(5)); return NULL; }
static napi_value f_forwardSp(napi_env env, napi_callback_info info) {
  ARGS(11);
  K->forwardSp(B, U(1), U(2), U(3), U(4), U(5), U(6), U(7), I(8), I(9), R(10));
  return NULL;
}
static napi_value f_addOutersT(napi_env env, napi_callback_info info) { ARGS(8); K->addOutersT(B, U(1), I(2), I(3), I(4), I(5), U(6), U(7)); return NULL; }

static napi_value f_packT(napi_env env, napi_callback_info info) { ARGS(7); K->packT(B, U(1), U(2), I(3), I(4), I(5), I(6)); return NULL; }
static napi_value f_matVecTP(napi_env env, napi_callback_info info) { ARGS(9); K->matVecTP(B, U(1), U(2), I(3), U(4), U(5), I(6), I(7), U(8)); return NULL; }
static napi_value f_inputSweepP(napi_env env, napi_callback_info info) {
  ARGS(12);
  K->inputSweepP(B, U(1), I(2), I(3), I(4), U(5), U(6), U(7), U(8), U(9), U(10), I(11));
  return NULL;
}

/* bind(buffer): the address of an ArrayBuffer's bytes (a WebAssembly.Memory that never grows, so it never moves). */
static napi_value f_bind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], r;
  void* data = NULL;
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 1 || napi_get_arraybuffer_info(env, a[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "neuroplastic native: bind needs an ArrayBuffer");
    return NULL;
  }
  napi_create_double(env, (double)(uintptr_t)data, &r);
  return r;
}

static napi_value f_isa(napi_env env, napi_callback_info info) {
  void* data = NULL;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  const Table* K = (const Table*)data;
  napi_value r;
  napi_create_string_utf8(env, K->name, NAPI_AUTO_LENGTH, &r);
  return r;
}

/* The hash of the sources this addon was built from (scripts/build-native.mjs passes it): src/core/native.ts
   refuses an addon built from other sources than native/ holds, whose kernels may take other arguments. */
#ifndef NP_SOURCE
#define NP_SOURCE "unknown"
#endif
static napi_value f_source(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_string_utf8(env, NP_SOURCE, NAPI_AUTO_LENGTH, &r);
  return r;
}

static void put(napi_env env, napi_value obj, const Table* T) {
  const struct { const char* name; napi_callback f; } fns[] = {
    {"bind", f_bind}, {"isa", f_isa}, {"source", f_source}, {"matVec", f_matVec}, {"matVecNZ", f_matVecNZ}, {"matTVec", f_matTVec},
    {"matTVec2", f_matTVec2}, {"addOuters", f_addOuters}, {"backUpdate", f_backUpdate}, {"matVecT", f_matVecT},
    {"inputSweep", f_inputSweep}, {"matVec2", f_matVec2}, {"matTVec2x2", f_matTVec2x2}, {"addOutersT", f_addOutersT},
    {"matVecs", f_matVecs}, {"matTVecs", f_matTVecs}, {"rnnBack", f_rnnBack},
    {"rnnFwd", f_rnnFwd}, {"softplusHead", f_softplusHead}, {"forwardSp", f_forwardSp},
    {"packT", f_packT}, {"matVecTP", f_matVecTP}, {"inputSweepP", f_inputSweepP},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    if (fns[i].f == f_forwardSp && T->forwardSp == NULL) continue;
    if ((fns[i].f == f_packT || fns[i].f == f_matVecTP || fns[i].f == f_inputSweepP) && T->packT == NULL) continue;
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].f, (void*)T, &fn);
    napi_set_named_property(env, obj, fns[i].name, fn);
  }
}

NAPI_MODULE_INIT() {
  choose();
  put(env, exports, K);
  if (KF) {
    napi_value fast;
    napi_create_object(env, &fast);
    put(env, fast, KF);
    napi_set_named_property(env, exports, "fast", fast);
  }
  return exports;
}
