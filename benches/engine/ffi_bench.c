/*
 * Times Flipt's Rust evaluation engine as shipped in the PyPI wheel flipt-client (libfliptengine,
 * the FFI build), called from C the way every FFI SDK calls it: evaluate_variant(engine, request
 * JSON) returns a response JSON string, which the caller frees with destroy_string.
 *
 * Usage: ffi_bench LIBFLIPTENGINE URL REQUEST_JSON check
 *        ffi_bench LIBFLIPTENGINE URL REQUEST_JSON bench ROUNDS ITERATIONS WARMUP_ROUNDS
 *
 * The engine is created with initialize_engine({"url": URL, "namespace": "default", ...}); it
 * fetches URL/internal/v1/evaluation/snapshot/namespace/default once before returning (the polling
 * interval is set to an hour, so no fetch happens while timing). `check` prints the engine's
 * response to REQUEST_JSON on one line. `bench` runs WARMUP_ROUNDS untimed rounds, then ROUNDS
 * rounds of ITERATIONS calls (evaluate_variant + destroy_string each), and prints
 * `median_ns M min_ns F rounds R iterations N sink S` on one line: ns per call, median and
 * fastest round (sink only keeps the calls observable).
 * The library is opened with dlopen(RTLD_NOW | RTLD_LOCAL), as Python's ctypes opens it.
 * Exits 2 on bad usage, 1 when the library, a symbol, the engine or a response is missing.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *(*initialize_engine_fn)(const char *opts);
typedef const char *(*evaluate_variant_fn)(void *engine, const char *request);
typedef void (*destroy_string_fn)(char *s);
typedef void (*destroy_engine_fn)(void *engine);

static void *symbol(void *lib, const char *name) {
  void *f = dlsym(lib, name);
  if (f == NULL) {
    fprintf(stderr, "ffi_bench: symbol %s not found: %s\n", name, dlerror());
    exit(1);
  }
  return f;
}

static long parse_count(const char *s, const char *what) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0) {
    fprintf(stderr, "ffi_bench: %s must be a non-negative integer, got '%s'\n", what, s);
    exit(2);
  }
  return v;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[4], "check") != 0 && strcmp(argv[4], "bench") != 0) ||
      (strcmp(argv[4], "bench") == 0 && argc != 8)) {
    fprintf(stderr,
            "usage: ffi_bench LIB URL REQUEST_JSON check\n"
            "       ffi_bench LIB URL REQUEST_JSON bench ROUNDS ITERATIONS WARMUP_ROUNDS\n");
    return 2;
  }
  const char *url = argv[2], *request = argv[3];

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "ffi_bench: cannot open %s: %s\n", argv[1], dlerror());
    return 1;
  }
  initialize_engine_fn initialize_engine = (initialize_engine_fn)symbol(lib, "initialize_engine");
  evaluate_variant_fn evaluate_variant = (evaluate_variant_fn)symbol(lib, "evaluate_variant");
  destroy_string_fn destroy_string = (destroy_string_fn)symbol(lib, "destroy_string");
  destroy_engine_fn destroy_engine = (destroy_engine_fn)symbol(lib, "destroy_engine");

  char opts[4096];
  int n = snprintf(opts, sizeof opts,
                   "{\"url\":\"%s\",\"namespace\":\"default\",\"environment\":\"default\","
                   "\"update_interval\":3600,\"error_strategy\":\"fail\"}",
                   url);
  if (n < 0 || (size_t)n >= sizeof opts) {
    fprintf(stderr, "ffi_bench: URL too long\n");
    return 2;
  }
  void *engine = initialize_engine(opts);
  if (engine == NULL) {
    fprintf(stderr, "ffi_bench: initialize_engine returned NULL\n");
    return 1;
  }

  if (strcmp(argv[4], "check") == 0) {
    const char *r = evaluate_variant(engine, request);
    if (r == NULL) {
      fprintf(stderr, "ffi_bench: evaluate_variant returned NULL\n");
      return 1;
    }
    printf("%s\n", r);
    destroy_string((char *)r);
    destroy_engine(engine);
    return 0;
  }

  long rounds = parse_count(argv[5], "ROUNDS");
  long iterations = parse_count(argv[6], "ITERATIONS");
  long warmup = parse_count(argv[7], "WARMUP_ROUNDS");
  if (rounds < 1 || iterations < 1) {
    fprintf(stderr, "ffi_bench: ROUNDS and ITERATIONS must be at least 1\n");
    return 2;
  }
  double *per_call = calloc((size_t)rounds, sizeof *per_call);
  if (per_call == NULL) {
    fprintf(stderr, "ffi_bench: out of memory\n");
    return 1;
  }
  size_t sink = 0;
  for (long r = -warmup; r < rounds; r++) {
    double start = now_ns();
    for (long i = 0; i < iterations; i++) {
      const char *s = evaluate_variant(engine, request);
      if (s == NULL) {
        fprintf(stderr, "ffi_bench: evaluate_variant returned NULL\n");
        return 1;
      }
      sink += (unsigned char)s[0];
      destroy_string((char *)s);
    }
    double elapsed = now_ns() - start;
    if (r >= 0) per_call[r] = elapsed / (double)iterations;
  }
  qsort(per_call, (size_t)rounds, sizeof *per_call, compare_doubles);
  double median = rounds % 2 ? per_call[rounds / 2]
                             : (per_call[rounds / 2 - 1] + per_call[rounds / 2]) / 2.0;
  printf("median_ns %.1f min_ns %.1f rounds %ld iterations %ld sink %zu\n", median, per_call[0],
         rounds, iterations, sink);
  free(per_call);
  destroy_engine(engine);
  return 0;
}
