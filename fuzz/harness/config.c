// libFuzzer entry for the config target (see fuzz/src/lib.rs).
#include <stddef.h>
#include <stdint.h>
int l2fuzz_config(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) { return l2fuzz_config(data, len); }
