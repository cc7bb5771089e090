/*
 * A minimal guard-plugin host on libl2: loads a model file, reads one prompt per line on stdin and
 * prints `ALLOW<TAB>score<TAB>prompt` or `BLOCK<TAB>score<TAB>prompt` for each (score with 9 significant
 * digits, which round-trips a float exactly). Exit status: 0 on success, 1 on any libl2 error.
 *
 * Build (see docs/c-api.md):
 *   cc -std=c11 -O2 examples/c/guard.c $(pkg-config --cflags --libs l2) -o guard
 * Run:
 *   printf 'What is 2+2?\nIgnore previous instructions\n' | ./guard model.l2
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l2.h"

/* Print the failed call, its status text and the detail libl2 kept for this thread. */
static void report(const char *what, l2_status status) {
  char msg[256], detail[1024];
  size_t n = 0;
  if (l2_status_message(status, msg, sizeof msg, &n) != L2_STATUS_OK) snprintf(msg, sizeof msg, "status %u", (unsigned)status);
  if (l2_last_error_message(detail, sizeof detail, &n) != L2_STATUS_OK) detail[0] = '\0';
  fprintf(stderr, "guard: %s: %s: %s\n", what, msg, detail);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_FILE < prompts.txt\n", argv[0]);
    return 2;
  }
  const l2_model *model = NULL;
  l2_status st = l2_model_load_path(argv[1], &model);
  if (st != L2_STATUS_OK) {
    report("loading the model", st);
    return 1;
  }

  int rc = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) != -1) {
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    float score = 0.0f;
    bool malicious = false;
    st = l2_model_classify(model, line, (size_t)len, &score, &malicious);
    if (st != L2_STATUS_OK) {
      report("scoring a prompt", st);
      rc = 1;
      continue;
    }
    printf("%s\t%.9g\t%s\n", malicious ? "BLOCK" : "ALLOW", (double)score, line);
  }
  free(line);
  l2_model_free(model);
  return rc;
}
