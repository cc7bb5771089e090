/*
 * C11 test of libl2: every entry point, every error path, bit-exact scores against the values the Rust
 * harness (capi/tests/c_programs.rs) computed, and 8 threads scoring one model.
 *
 * Usage: test_api DIR, where DIR holds model.l2, fixture.txt and embeddings.bin written by the harness.
 * Env: L2_TEST_ROUNDS (default 25) = scoring rounds per thread in the thread test;
 *      L2_TEST_RUST_PARITY=0 skips the comparisons with the harness's Rust scores (for valgrind, whose
 *      virtual CPU hides AVX-512, so libl2 dispatches to another kernel than the harness did; every
 *      other check, including threads against one thread, still runs).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l2.h"

#define MAX_PROMPTS 64
#define THREADS 8

static int failures = 0;
static int rust_parity = 1;

static void print_last_error(void) {
  char buf[1024];
  size_t n = 0;
  if (l2_last_error_message(buf, sizeof buf, &n) == L2_STATUS_OK) {
    fprintf(stderr, "    last error: %s\n", buf);
  }
}

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                   \
    }                                                               \
  } while (0)

/* A comparison with the Rust harness's scores. */
#define PARITY(cond) CHECK(!rust_parity || (cond))

#define EXPECT_STATUS(call, expected)                                              \
  do {                                                                             \
    l2_status got_ = (call);                                                       \
    if (got_ != (expected)) {                                                      \
      fprintf(stderr, "%s:%d: %s returned %u, expected %s (%u)\n", __FILE__, __LINE__, \
              #call, (unsigned)got_, #expected, (unsigned)(expected));             \
      print_last_error();                                                          \
      failures++;                                                                  \
    }                                                                              \
  } while (0)

#define REQUIRE_OK(call)                                                  \
  do {                                                                    \
    l2_status got_ = (call);                                              \
    if (got_ != L2_STATUS_OK) {                                           \
      fprintf(stderr, "%s:%d: %s returned %u\n", __FILE__, __LINE__, #call, (unsigned)got_); \
      print_last_error();                                                 \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

/* The last error detail contains `needle`. */
static int last_error_has(const char *needle) {
  char buf[1024];
  size_t n = 0;
  if (l2_last_error_message(buf, sizeof buf, &n) != L2_STATUS_OK) return 0;
  if (strstr(buf, needle) == NULL) {
    fprintf(stderr, "    last error `%s` lacks `%s`\n", buf, needle);
    return 0;
  }
  return 1;
}

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ---- fixture ---- */

static char *prompts[MAX_PROMPTS];
static size_t prompt_lens[MAX_PROMPTS];
static uint32_t expected_bits[MAX_PROMPTS];
static int expected_malicious[MAX_PROMPTS];
static size_t n_prompts = 0;
static uint32_t threshold_bits = 0;
static size_t fixture_dims = 0;
static int wide_deep = 0;

static float *emb = NULL;
static float *emb_expected = NULL;
static size_t emb_n = 0, emb_dims = 0;

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p == NULL) exit(1);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  if (buf == NULL) exit(1);
  for (;;) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    cap *= 2;
    unsigned char *grown = realloc(buf, cap);
    if (grown == NULL) exit(1);
    buf = grown;
  }
  fclose(f);
  *len = n;
  return buf;
}

/* The file `name` of the fixture directory as a NUL-terminated string (caller frees). */
static char *read_text(const char *dir, const char *name) {
  char *path = join(dir, name);
  size_t len = 0;
  char *text = (char *)read_file(path, &len);
  free(path);
  text = realloc(text, len + 1);
  if (text == NULL) exit(1);
  text[len] = '\0';
  return text;
}

static void load_fixture(const char *dir) {
  char *text = read_text(dir, "fixture.txt");
  size_t len = 0;
  char *path;
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  if (line == NULL || sscanf(line, "threshold %x", &threshold_bits) != 1) exit(1);
  line = strtok_r(NULL, "\n", &save);
  if (line == NULL || sscanf(line, "dims %zu", &fixture_dims) != 1) exit(1);
  line = strtok_r(NULL, "\n", &save);
  if (line == NULL || strncmp(line, "kind ", 5) != 0) exit(1);
  wide_deep = strcmp(line + 5, "wide_deep") == 0;
  while ((line = strtok_r(NULL, "\n", &save)) != NULL && n_prompts < MAX_PROMPTS) {
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (tab2 == NULL) exit(1);
    *tab1 = '\0';
    expected_bits[n_prompts] = (uint32_t)strtoul(line, NULL, 16);
    expected_malicious[n_prompts] = tab1[1] == '1';
    prompt_lens[n_prompts] = strlen(tab2 + 1);
    prompts[n_prompts] = malloc(prompt_lens[n_prompts] + 1);
    if (prompts[n_prompts] == NULL) exit(1);
    memcpy(prompts[n_prompts], tab2 + 1, prompt_lens[n_prompts] + 1);
    n_prompts++;
  }
  free(text);
  /* strtok_r skips empty lines, but an empty prompt is still "hex\t0\t" and so not empty. */

  path = join(dir, "embeddings.bin");
  unsigned char *bin = read_file(path, &len);
  free(path);
  uint64_t n64, d64;
  memcpy(&n64, bin, 8);
  memcpy(&d64, bin + 8, 8);
  emb_n = (size_t)n64;
  emb_dims = (size_t)d64;
  if (len != 16 + 4 * (emb_n * emb_dims + emb_n)) exit(1);
  /* A wide-and-deep fixture has no embeddings (dims 0): keep one float so the pointer is valid. */
  emb = malloc(4 * emb_n * emb_dims + 4);
  emb_expected = malloc(4 * emb_n);
  if (emb == NULL || emb_expected == NULL) exit(1);
  memcpy(emb, bin + 16, 4 * emb_n * emb_dims);
  memcpy(emb_expected, bin + 16 + 4 * emb_n * emb_dims, 4 * emb_n);
  free(bin);
}

/* ---- tests ---- */

static void test_version_and_status_messages(void) {
  CHECK(strcmp(l2_version(), L2_VERSION) == 0);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", L2_VERSION_MAJOR, L2_VERSION_MINOR, L2_VERSION_PATCH);
  CHECK(strcmp(l2_version(), want) == 0);

  char buf[256];
  size_t n = 0;
  for (uint32_t code = L2_STATUS_OK; code <= L2_STATUS_PANIC; code++) {
    EXPECT_STATUS(l2_status_message(code, buf, sizeof buf, &n), L2_STATUS_OK);
    CHECK(n > 0 && n == strlen(buf));
  }
  EXPECT_STATUS(l2_status_message(L2_STATUS_OK, buf, sizeof buf, &n), L2_STATUS_OK);
  CHECK(strcmp(buf, "ok") == 0 && n == 2);
  EXPECT_STATUS(l2_status_message(999, buf, sizeof buf, &n), L2_STATUS_OK);
  CHECK(strcmp(buf, "unknown status code 999") == 0);

  /* Too small: nothing written, required size reported. */
  memset(buf, 'x', sizeof buf);
  n = 0;
  EXPECT_STATUS(l2_status_message(L2_STATUS_NULL_PARAMETER, buf, 3, &n), L2_STATUS_BUFFER_TOO_SMALL);
  CHECK(buf[0] == 'x' && buf[1] == 'x' && buf[2] == 'x');
  char full[256];
  size_t full_n = 0;
  EXPECT_STATUS(l2_status_message(L2_STATUS_NULL_PARAMETER, full, sizeof full, &full_n), L2_STATUS_OK);
  CHECK(n == full_n + 1);
  /* Exactly the required size fits. */
  EXPECT_STATUS(l2_status_message(L2_STATUS_NULL_PARAMETER, buf, full_n + 1, &n), L2_STATUS_OK);
  CHECK(strcmp(buf, full) == 0 && n == full_n);

  EXPECT_STATUS(l2_status_message(0, NULL, 10, &n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_status_message(0, buf, sizeof buf, NULL), L2_STATUS_NULL_PARAMETER);
}

static void test_last_error(void) {
  const l2_model *m = NULL;
  EXPECT_STATUS(l2_model_load_path(NULL, &m), L2_STATUS_NULL_PARAMETER);
  CHECK(last_error_has("`path`"));
  /* A too-small buffer does not replace the detail: retrying with the reported size works. */
  char small[4];
  size_t need = 0;
  EXPECT_STATUS(l2_last_error_message(small, sizeof small, &need), L2_STATUS_BUFFER_TOO_SMALL);
  CHECK(need > sizeof small);
  char *big = malloc(need);
  size_t n = 0;
  EXPECT_STATUS(l2_last_error_message(big, need, &n), L2_STATUS_OK);
  CHECK(n + 1 == need && strstr(big, "`path`") != NULL);
  free(big);
  EXPECT_STATUS(l2_last_error_message(NULL, 10, &n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_last_error_message(small, sizeof small, NULL), L2_STATUS_NULL_PARAMETER);
}

static const l2_model *test_loading(const char *dir) {
  const l2_model *sentinel = (const l2_model *)&failures; /* never dereferenced */
  const l2_model *m = sentinel;
  char *path = join(dir, "model.l2");

  /* Errors leave *out_model alone. */
  char *missing = join(dir, "no-such-model.l2");
  EXPECT_STATUS(l2_model_load_path(missing, &m), L2_STATUS_IO);
  CHECK(m == sentinel);
  CHECK(last_error_has("no-such-model.l2"));
  free(missing);
  EXPECT_STATUS(l2_model_load_path(path, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_load_path("\xff\xfe.l2", &m), L2_STATUS_INVALID_UTF8);
  CHECK(m == sentinel);
  /* A directory is not a model file. */
  EXPECT_STATUS(l2_model_load_path(dir, &m), L2_STATUS_IO);

  size_t len = 0;
  unsigned char *bytes = read_file(path, &len);
  EXPECT_STATUS(l2_model_load_bytes(bytes, len / 2, &m), L2_STATUS_MODEL_CORRUPT);
  CHECK(m == sentinel);
  EXPECT_STATUS(l2_model_load_bytes(bytes, 0, &m), L2_STATUS_MODEL_CORRUPT);
  EXPECT_STATUS(l2_model_load_bytes((const uint8_t *)"not a model at all", 18, &m), L2_STATUS_MODEL_CORRUPT);
  CHECK(m == sentinel);
  EXPECT_STATUS(l2_model_load_bytes(NULL, len, &m), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_load_bytes(bytes, len, NULL), L2_STATUS_NULL_PARAMETER);

  /* The same model from bytes and from the path scores identically; the bytes may go right away. */
  const l2_model *from_bytes = NULL;
  REQUIRE_OK(l2_model_load_bytes(bytes, len, &from_bytes));
  memset(bytes, 0, len);
  free(bytes);
  REQUIRE_OK(l2_model_load_path(path, &m));
  free(path);
  for (size_t i = 0; i < n_prompts; i++) {
    float a = -1.0f, b = -2.0f;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &a));
    REQUIRE_OK(l2_model_score_text(from_bytes, prompts[i], prompt_lens[i], &b));
    CHECK(bits(a) == bits(b));
  }
  l2_model_free(from_bytes);
  l2_model_free(NULL);
  return m;
}

static void test_properties(const l2_model *m) {
  size_t dims = 0;
  float t = -1.0f;
  REQUIRE_OK(l2_model_dims(m, &dims));
  CHECK(dims == fixture_dims && (wide_deep ? emb_dims == 0 : dims == emb_dims));
  REQUIRE_OK(l2_model_threshold(m, &t));
  CHECK(bits(t) == threshold_bits);
  EXPECT_STATUS(l2_model_dims(NULL, &dims), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_dims(m, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_threshold(NULL, &t), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_threshold(m, NULL), L2_STATUS_NULL_PARAMETER);

  /* Metadata: size query, then the copy. */
  char tiny[8];
  memset(tiny, 'x', sizeof tiny);
  size_t need = 0;
  EXPECT_STATUS(l2_model_metadata_json(m, tiny, sizeof tiny, &need), L2_STATUS_BUFFER_TOO_SMALL);
  CHECK(tiny[0] == 'x' && need > sizeof tiny);
  char *json = malloc(need);
  size_t n = 0;
  REQUIRE_OK(l2_model_metadata_json(m, json, need, &n));
  CHECK(n + 1 == need && strlen(json) == n);
  CHECK(strstr(json, "\"threshold\"") != NULL && strstr(json, "\"format_version\"") != NULL);
  EXPECT_STATUS(l2_model_metadata_json(m, json, need - 1, &n), L2_STATUS_BUFFER_TOO_SMALL);
  free(json);
  EXPECT_STATUS(l2_model_metadata_json(NULL, tiny, sizeof tiny, &n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_metadata_json(m, NULL, 100, &n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_metadata_json(m, tiny, sizeof tiny, NULL), L2_STATUS_NULL_PARAMETER);
}

static void test_scoring(const l2_model *m) {
  int seen[2] = {0, 0};
  for (size_t i = 0; i < n_prompts; i++) {
    float s = -1.0f;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &s));
    if (rust_parity && bits(s) != expected_bits[i]) {
      fprintf(stderr, "prompt %zu: C score %08x, Rust %08x\n", i, bits(s), expected_bits[i]);
      failures++;
    }
    bool mal = !expected_malicious[i];
    REQUIRE_OK(l2_model_decide(m, s, &mal));
    PARITY(mal == (expected_malicious[i] != 0));
    float s2 = -1.0f;
    bool mal2 = !mal;
    REQUIRE_OK(l2_model_classify(m, prompts[i], prompt_lens[i], &s2, &mal2));
    CHECK(bits(s2) == bits(s) && mal2 == mal);
    seen[mal ? 1 : 0]++;
  }
  PARITY(seen[0] > 0 && seen[1] > 0);

  /* Text errors: outputs untouched. */
  float s = 42.0f;
  bool mal = true;
  const char bad[] = {'o', 'k', (char)0xff, (char)0xfe, 'x'};
  EXPECT_STATUS(l2_model_score_text(m, bad, sizeof bad, &s), L2_STATUS_INVALID_UTF8);
  CHECK(s == 42.0f);
  CHECK(last_error_has("offset 2"));
  const char overlong[] = {(char)0xc0, (char)0xaf}; /* overlong '/' */
  EXPECT_STATUS(l2_model_score_text(m, overlong, sizeof overlong, &s), L2_STATUS_INVALID_UTF8);
  const char truncated[] = {'a', (char)0xe3, (char)0x81}; /* cut multi-byte sequence */
  EXPECT_STATUS(l2_model_score_text(m, truncated, sizeof truncated, &s), L2_STATUS_INVALID_UTF8);
  EXPECT_STATUS(l2_model_score_text(m, NULL, 0, &s), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_text(NULL, "x", 1, &s), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_text(m, "x", 1, NULL), L2_STATUS_NULL_PARAMETER);
  CHECK(s == 42.0f);
  /* Length is honoured: no NUL needed, bytes past len ignored. */
  float a = 0.0f, b = 0.0f;
  REQUIRE_OK(l2_model_score_text(m, "hello world\xff", 11, &a));
  REQUIRE_OK(l2_model_score_text(m, "hello world", 11, &b));
  CHECK(bits(a) == bits(b));

  EXPECT_STATUS(l2_model_classify(m, bad, sizeof bad, &s, &mal), L2_STATUS_INVALID_UTF8);
  CHECK(s == 42.0f && mal == true);
  EXPECT_STATUS(l2_model_classify(m, "x", 1, NULL, &mal), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_classify(m, "x", 1, &s, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_classify(NULL, "x", 1, &s, &mal), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_decide(m, NAN, &mal), L2_STATUS_INVALID_PARAM);
  EXPECT_STATUS(l2_model_decide(NULL, 0.5f, &mal), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_decide(m, 0.5f, NULL), L2_STATUS_NULL_PARAMETER);
  CHECK(mal == true);
  bool lo = true, hi = false;
  REQUIRE_OK(l2_model_decide(m, 0.0f, &lo));
  REQUIRE_OK(l2_model_decide(m, 1.0f, &hi));
  CHECK(!lo || bits(0.0f) == threshold_bits);
  CHECK(hi);
}

static void test_batch(const l2_model *m) {
  float out[MAX_PROMPTS + 1];
  const char *ptrs[MAX_PROMPTS];
  for (size_t i = 0; i < n_prompts; i++) ptrs[i] = prompts[i];
  out[n_prompts] = 7.0f;
  REQUIRE_OK(l2_model_score_batch(m, ptrs, prompt_lens, n_prompts, out, n_prompts + 1));
  for (size_t i = 0; i < n_prompts; i++) {
    float one = -1.0f;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &one));
    CHECK(bits(out[i]) == bits(one));
    PARITY(bits(out[i]) == expected_bits[i]);
  }
  CHECK(out[n_prompts] == 7.0f);
  REQUIRE_OK(l2_model_score_batch(m, ptrs, prompt_lens, 0, out, 0));

  for (size_t i = 0; i <= n_prompts; i++) out[i] = 7.0f;
  EXPECT_STATUS(l2_model_score_batch(m, ptrs, prompt_lens, n_prompts, out, n_prompts - 1), L2_STATUS_BUFFER_TOO_SMALL);
  EXPECT_STATUS(l2_model_score_batch(NULL, ptrs, prompt_lens, n_prompts, out, n_prompts), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_batch(m, NULL, prompt_lens, n_prompts, out, n_prompts), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_batch(m, ptrs, NULL, n_prompts, out, n_prompts), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_batch(m, ptrs, prompt_lens, n_prompts, NULL, n_prompts), L2_STATUS_NULL_PARAMETER);
  const char *saved = ptrs[2];
  ptrs[2] = NULL;
  EXPECT_STATUS(l2_model_score_batch(m, ptrs, prompt_lens, n_prompts, out, n_prompts), L2_STATUS_NULL_PARAMETER);
  CHECK(last_error_has("texts[2]"));
  ptrs[2] = "\xff";
  size_t saved_len = prompt_lens[2];
  prompt_lens[2] = 1;
  EXPECT_STATUS(l2_model_score_batch(m, ptrs, prompt_lens, n_prompts, out, n_prompts), L2_STATUS_INVALID_UTF8);
  CHECK(last_error_has("texts[2]"));
  ptrs[2] = saved;
  prompt_lens[2] = saved_len;
  for (size_t i = 0; i <= n_prompts; i++) CHECK(out[i] == 7.0f);
}

static void test_detailed(const l2_model *m) {
  for (size_t i = 0; i < n_prompts; i++) {
    float s = -1.0f;
    l2_score_detail d;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &s));
    REQUIRE_OK(l2_model_score_text_detailed(m, prompts[i], prompt_lens[i], &d));
    CHECK(bits(d.score) == bits(s) && d.views >= 1 && d.windows <= d.views);
    CHECK(d.view <= L2_VIEW_WINDOW);
  }
  /* A long text: a model with a text spec (the wide-and-deep fixture) scores it in windows. */
  const char *unit = "please summarise the attached report about quarterly sales figures. ";
  size_t unit_len = strlen(unit), reps = 60;
  char *long_text = malloc(unit_len * reps + 1);
  for (size_t r = 0; r < reps; r++) memcpy(long_text + r * unit_len, unit, unit_len);
  long_text[unit_len * reps] = '\0';
  l2_score_detail d;
  float s = -1.0f;
  REQUIRE_OK(l2_model_score_text_detailed(m, long_text, unit_len * reps, &d));
  REQUIRE_OK(l2_model_score_text(m, long_text, unit_len * reps, &s));
  CHECK(bits(d.score) == bits(s));
  CHECK(wide_deep ? d.windows > 1 : d.windows == 0);
  free(long_text);
  EXPECT_STATUS(l2_model_score_text_detailed(m, "x", 1, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_text_detailed(NULL, "x", 1, &d), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_text_detailed(m, "\xc3\x28", 2, &d), L2_STATUS_INVALID_UTF8);
}

/* The heads: what heads.txt (the Rust library's answers) says, bit for bit. */
static void test_heads(const l2_model *m, const char *dir) {
  char *text = read_text(dir, "heads.txt");
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  size_t families = 0, n = 99, need = 0;
  if (line == NULL || sscanf(line, "families %zu", &families) != 1 || families > 64) exit(1);
  REQUIRE_OK(l2_model_head_count(m, L2_HEAD_FAMILY, &n));
  CHECK(n == families);
  for (size_t i = 0; i < families; i++) {
    line = strtok_r(NULL, "\n", &save);
    if (line == NULL) exit(1);
    char label[64];
    REQUIRE_OK(l2_model_head_label(m, L2_HEAD_FAMILY, i, label, sizeof label, &n));
    CHECK(n == strlen(line) && strcmp(label, line) == 0);
    EXPECT_STATUS(l2_model_head_label(m, L2_HEAD_FAMILY, i, label, 1, &need), L2_STATUS_BUFFER_TOO_SMALL);
    CHECK(need == strlen(line) + 1);
  }
  char label[64];
  EXPECT_STATUS(l2_model_head_label(m, L2_HEAD_FAMILY, families, label, sizeof label, &n),
                L2_STATUS_INVALID_PARAM);
  float scores[64];
  for (size_t i = 0; i < n_prompts; i++) {
    line = strtok_r(NULL, "\n", &save);
    if (line == NULL) exit(1);
    long family = 0;
    unsigned severity = 0, fbits = 0, sbits = 0;
    int used = 0;
    if (sscanf(line, "%ld %u %x %x%n", &family, &severity, &fbits, &sbits, &used) != 4) exit(1);
    l2_classification c;
    size_t got = 99;
    REQUIRE_OK(l2_model_classify_ex(m, prompts[i], prompt_lens[i], &c, scores, 64, &got));
    float s = -1.0f;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &s));
    bool decided = false;
    REQUIRE_OK(l2_model_decide(m, s, &decided));
    CHECK(bits(c.score) == bits(s) && c.malicious == decided);
    CHECK(got == families);
    PARITY(c.family == family && (unsigned)c.severity == severity);
    PARITY(bits(c.family_score) == fbits && bits(c.severity_score) == sbits);
    const char *rest = line + used;
    for (size_t k = 0; k < families; k++) {
      unsigned pb = 0;
      int step = 0;
      if (sscanf(rest, " %x%n", &pb, &step) != 1) exit(1);
      rest += step;
      PARITY(bits(scores[k]) == pb);
    }
    /* Without a buffer: the struct and the count only. */
    l2_classification c2;
    REQUIRE_OK(l2_model_classify_ex(m, prompts[i], prompt_lens[i], &c2, NULL, 0, &got));
    CHECK(got == families && bits(c2.score) == bits(c.score) && c2.family == c.family);
    if (families > 0) {
      memset(&c2, 0xab, sizeof c2);
      EXPECT_STATUS(l2_model_classify_ex(m, prompts[i], prompt_lens[i], &c2, scores, families - 1, &need),
                    L2_STATUS_BUFFER_TOO_SMALL);
      CHECK(need == families && c2.family == (int32_t)0xabababab);
    }
    if (!c.malicious) CHECK(c.family == -1 && (families == 0 || c.severity == L2_SEVERITY_NONE));
  }
  free(text);
  if (families == 0) {
    l2_classification c;
    size_t got = 0;
    REQUIRE_OK(l2_model_classify_ex(m, "x", 1, &c, NULL, 0, &got));
    CHECK(c.family == -1 && c.severity == L2_SEVERITY_UNAVAILABLE && got == 0);
  }
  l2_classification c;
  size_t got = 0;
  EXPECT_STATUS(l2_model_classify_ex(m, "x", 1, NULL, NULL, 0, &got), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_classify_ex(m, "x", 1, &c, NULL, 0, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_classify_ex(m, "x", 1, &c, NULL, 4, &got), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_classify_ex(m, "\xc3\x28", 2, &c, scores, 64, &got), L2_STATUS_INVALID_UTF8);
  EXPECT_STATUS(l2_model_classify_ex(NULL, "x", 1, &c, scores, 64, &got), L2_STATUS_NULL_PARAMETER);
}

static void test_embeddings(const l2_model *m) {
  float *out = malloc(sizeof(float) * (emb_n + 1));
  if (wide_deep) {
    /* Reads text only: embeddings of any width are refused, nothing written. */
    float one[1] = {0.0f};
    out[0] = 7.0f;
    EXPECT_STATUS(l2_model_score_embeddings(m, one, 1, 1, out, 1), L2_STATUS_INVALID_PARAM);
    CHECK(last_error_has("embeddings") && out[0] == 7.0f);
    free(out);
    return;
  }
  out[emb_n] = 7.0f;
  REQUIRE_OK(l2_model_score_embeddings(m, emb, emb_n, emb_dims, out, emb_n + 1));
  for (size_t i = 0; i < emb_n; i++) PARITY(bits(out[i]) == bits(emb_expected[i]));
  /* The harness's embeddings of the prompts score as the texts do. */
  for (size_t i = 0; i < emb_n && i < n_prompts; i++) {
    float one = -1.0f;
    REQUIRE_OK(l2_model_score_text(m, prompts[i], prompt_lens[i], &one));
    CHECK(bits(out[i]) == bits(one));
  }
  CHECK(out[emb_n] == 7.0f);

  for (size_t i = 0; i <= emb_n; i++) out[i] = 7.0f;
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims + 1, out, emb_n), L2_STATUS_WRONG_DIMS);
  CHECK(last_error_has("dims"));
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims - 1, out, emb_n), L2_STATUS_WRONG_DIMS);
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, 0, out, emb_n), L2_STATUS_WRONG_DIMS);
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, SIZE_MAX, emb_dims, out, emb_n), L2_STATUS_WRONG_DIMS);
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims, out, emb_n - 1), L2_STATUS_BUFFER_TOO_SMALL);
  EXPECT_STATUS(l2_model_score_embeddings(NULL, emb, emb_n, emb_dims, out, emb_n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_embeddings(m, NULL, emb_n, emb_dims, out, emb_n), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims, NULL, emb_n), L2_STATUS_NULL_PARAMETER);
  float saved = emb[3];
  emb[3] = NAN;
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims, out, emb_n), L2_STATUS_INVALID_DATA);
  emb[3] = INFINITY;
  EXPECT_STATUS(l2_model_score_embeddings(m, emb, emb_n, emb_dims, out, emb_n), L2_STATUS_INVALID_DATA);
  emb[3] = saved;
  for (size_t i = 0; i <= emb_n; i++) CHECK(out[i] == 7.0f);
  free(out);
}

static void test_train_config(void) {
  l2_train_config *cfg = NULL;
  REQUIRE_OK(l2_train_config_new(&cfg));
  REQUIRE_OK(l2_train_config_set_epochs(cfg, 3));
  REQUIRE_OK(l2_train_config_set_patience(cfg, 0));
  REQUIRE_OK(l2_train_config_set_batch_size(cfg, 16));
  REQUIRE_OK(l2_train_config_set_learning_rate(cfg, 0.001f));
  REQUIRE_OK(l2_train_config_set_dropout(cfg, 0.0f));
  REQUIRE_OK(l2_train_config_set_seed(cfg, 1234567));
  const size_t hidden[] = {24, 12};
  REQUIRE_OK(l2_train_config_set_hidden(cfg, hidden, 2));
  REQUIRE_OK(l2_train_config_set_target_fpr(cfg, 0.05));
  REQUIRE_OK(l2_train_config_set_embedding_dims(cfg, 128));
  REQUIRE_OK(l2_train_config_set_skip_invalid(cfg, true));
  REQUIRE_OK(l2_train_config_add_data(cfg, "some/train.csv"));

  const size_t zero_width[] = {8, 0};
  EXPECT_STATUS(l2_train_config_set_hidden(cfg, zero_width, 2), L2_STATUS_INVALID_PARAM);
  EXPECT_STATUS(l2_train_config_set_hidden(cfg, NULL, 2), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_set_target_fpr(cfg, 1.5), L2_STATUS_INVALID_PARAM);
  EXPECT_STATUS(l2_train_config_set_target_fpr(cfg, NAN), L2_STATUS_INVALID_PARAM);
  EXPECT_STATUS(l2_train_config_set_epochs(NULL, 3), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_set_seed(NULL, 3), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_add_data(cfg, NULL), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_add_data(NULL, "x.csv"), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_add_data(cfg, "\xff.csv"), L2_STATUS_INVALID_UTF8);

  size_t need = 0;
  char tiny[4];
  EXPECT_STATUS(l2_train_config_to_json(cfg, tiny, sizeof tiny, &need), L2_STATUS_BUFFER_TOO_SMALL);
  char *json = malloc(need);
  size_t n = 0;
  REQUIRE_OK(l2_train_config_to_json(cfg, json, need, &n));
  CHECK(strstr(json, "\"epochs\": 3") != NULL);
  CHECK(strstr(json, "1234567") != NULL);
  CHECK(strstr(json, "some/train.csv") != NULL);
  CHECK(strstr(json, "\"dims\": 128") != NULL);
  EXPECT_STATUS(l2_train_config_to_json(NULL, json, need, &n), L2_STATUS_NULL_PARAMETER);

  /* The JSON form round-trips. */
  l2_train_config *again = NULL;
  REQUIRE_OK(l2_train_config_from_json(json, &again));
  char *json2 = malloc(need);
  REQUIRE_OK(l2_train_config_to_json(again, json2, need, &n));
  CHECK(strcmp(json, json2) == 0);
  free(json2);
  free(json);
  l2_train_config_free(again);

  l2_train_config *sentinel = (l2_train_config *)&failures, *bad = sentinel;
  EXPECT_STATUS(l2_train_config_from_json("{\"train\": {\"epochs\": 2}}", &bad), L2_STATUS_OK);
  l2_train_config_free(bad);
  bad = sentinel;
  EXPECT_STATUS(l2_train_config_from_json("{\"no_such_setting\": 1}", &bad), L2_STATUS_INVALID_JSON);
  CHECK(last_error_has("no_such_setting"));
  EXPECT_STATUS(l2_train_config_from_json("{not json", &bad), L2_STATUS_INVALID_JSON);
  EXPECT_STATUS(l2_train_config_from_json("\xff", &bad), L2_STATUS_INVALID_UTF8);
  EXPECT_STATUS(l2_train_config_from_json(NULL, &bad), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train_config_from_json("{}", NULL), L2_STATUS_NULL_PARAMETER);
  CHECK(bad == sentinel);
  EXPECT_STATUS(l2_train_config_new(NULL), L2_STATUS_NULL_PARAMETER);

  /* Training argument errors (training itself is tested in test_train.c). */
  const l2_model *m = NULL;
  EXPECT_STATUS(l2_train(NULL, "out.l2", NULL, NULL, &m), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train(cfg, NULL, NULL, NULL, &m), L2_STATUS_NULL_PARAMETER);
  EXPECT_STATUS(l2_train(cfg, "\xff.l2", NULL, NULL, &m), L2_STATUS_INVALID_UTF8);
  CHECK(m == NULL);
  l2_train_config_free(cfg);
  l2_train_config_free(NULL);
}

/* ---- threads ---- */

struct job {
  const l2_model *model;
  int rounds;
  float single[MAX_PROMPTS];
  float batch[MAX_PROMPTS];
  int ok;
};

static void *score_all(void *arg) {
  struct job *j = arg;
  const char *ptrs[MAX_PROMPTS];
  for (size_t i = 0; i < n_prompts; i++) ptrs[i] = prompts[i];
  j->ok = 1;
  for (int r = 0; r < j->rounds; r++) {
    for (size_t i = 0; i < n_prompts; i++) {
      float s;
      if (l2_model_score_text(j->model, prompts[i], prompt_lens[i], &s) != L2_STATUS_OK) j->ok = 0;
      if (r > 0 && bits(s) != bits(j->single[i])) j->ok = 0;
      j->single[i] = s;
    }
    float out[MAX_PROMPTS];
    if (l2_model_score_batch(j->model, ptrs, prompt_lens, n_prompts, out, n_prompts) != L2_STATUS_OK) j->ok = 0;
    for (size_t i = 0; i < n_prompts; i++) {
      if (r > 0 && bits(out[i]) != bits(j->batch[i])) j->ok = 0;
      j->batch[i] = out[i];
    }
    /* Errors on one thread leave other threads' details alone; exercise the thread-local store. */
    float unused;
    if (l2_model_score_text(j->model, NULL, 0, &unused) != L2_STATUS_NULL_PARAMETER) j->ok = 0;
  }
  return NULL;
}

static void test_threads(const l2_model *m) {
  const char *env = getenv("L2_TEST_ROUNDS");
  int rounds = env ? atoi(env) : 25;
  if (rounds < 1) rounds = 1;

  static struct job one, many[THREADS];
  one.model = m;
  one.rounds = rounds;
  score_all(&one);
  CHECK(one.ok);

  pthread_t tids[THREADS];
  for (int t = 0; t < THREADS; t++) {
    many[t].model = m;
    many[t].rounds = rounds;
    CHECK(pthread_create(&tids[t], NULL, score_all, &many[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(tids[t], NULL) == 0);
  for (int t = 0; t < THREADS; t++) {
    CHECK(many[t].ok);
    for (size_t i = 0; i < n_prompts; i++) {
      CHECK(bits(many[t].single[i]) == bits(one.single[i]));
      CHECK(bits(many[t].batch[i]) == bits(one.batch[i]));
      PARITY(bits(many[t].single[i]) == expected_bits[i]);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
    return 2;
  }
  const char *parity = getenv("L2_TEST_RUST_PARITY");
  rust_parity = !(parity && strcmp(parity, "0") == 0);
  load_fixture(argv[1]);
  if (n_prompts < 4 || emb_n != n_prompts) {
    fprintf(stderr, "bad fixture (%zu prompts, %zu embeddings)\n", n_prompts, emb_n);
    return 2;
  }

  test_version_and_status_messages();
  test_last_error();
  const l2_model *m = test_loading(argv[1]);
  test_properties(m);
  test_scoring(m);
  test_batch(m);
  test_detailed(m);
  test_heads(m, argv[1]);
  test_embeddings(m);
  test_train_config();
  test_threads(m);
  l2_model_free(m);

  for (size_t i = 0; i < n_prompts; i++) free(prompts[i]);
  free(emb);
  free(emb_expected);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("test_api: all checks passed (%zu prompts, %d threads)\n", n_prompts, THREADS);
  return 0;
}
