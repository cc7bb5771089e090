// libFuzzer entry for the model target (see fuzz/src/lib.rs).
#include <stddef.h>
#include <stdint.h>
int l2fuzz_model(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) { return l2fuzz_model(data, len); }
