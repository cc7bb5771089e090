// libFuzzer entry for the index target (see fuzz/src/lib.rs).
#include <stddef.h>
#include <stdint.h>
int l2fuzz_index(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) { return l2fuzz_index(data, len); }
