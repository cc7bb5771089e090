// C++17 test of libl2: the header compiles as C++ (extern "C" guards, enum l2_status : uint32_t), RAII
// ownership with std::unique_ptr, bit-exact scores against the Rust harness, 8 std::threads on one model.
//
// Usage: test_api_cpp DIR (model.l2, fixture.txt, embeddings.bin written by capi/tests/c_programs.rs).

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "l2.h"

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n";     \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

std::string last_error() {
  size_t need = 0;
  char probe[1];
  if (l2_last_error_message(probe, sizeof probe, &need) == L2_STATUS_OK) return std::string();
  std::string s(need, '\0');
  size_t n = 0;
  if (l2_last_error_message(&s[0], s.size(), &n) != L2_STATUS_OK) return "<unavailable>";
  s.resize(n);
  return s;
}

struct ModelFree {
  void operator()(const l2_model* m) const noexcept { l2_model_free(m); }
};
using Model = std::unique_ptr<const l2_model, ModelFree>;

Model load(const std::string& path) {
  const l2_model* m = nullptr;
  l2_status st = l2_model_load_path(path.c_str(), &m);
  if (st != L2_STATUS_OK) throw std::runtime_error("loading " + path + ": " + last_error());
  return Model(m);
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

struct Fixture {
  std::vector<std::string> prompts;
  std::vector<uint32_t> expected;
  std::vector<bool> malicious;
  size_t dims = 0;
  bool wide_deep = false;
};

Fixture read_fixture(const std::string& dir) {
  Fixture f;
  std::ifstream in(dir + "/fixture.txt");
  std::string line;
  std::getline(in, line);  // threshold
  std::getline(in, line);
  f.dims = std::stoul(line.substr(5));
  std::getline(in, line);
  f.wide_deep = line == "kind wide_deep";
  while (std::getline(in, line)) {
    size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    f.expected.push_back(static_cast<uint32_t>(std::stoul(line.substr(0, t1), nullptr, 16)));
    f.malicious.push_back(line[t1 + 1] == '1');
    f.prompts.push_back(line.substr(t2 + 1));
  }
  return f;
}

std::vector<float> score_all(const l2_model* m, const Fixture& f) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& p : f.prompts) {
    ptrs.push_back(p.data());
    lens.push_back(p.size());
  }
  std::vector<float> out(f.prompts.size());
  if (l2_model_score_batch(m, ptrs.data(), lens.data(), ptrs.size(), out.data(), out.size()) != L2_STATUS_OK) {
    ++failures;
  }
  for (size_t i = 0; i < f.prompts.size(); i++) {
    float s = -1.0f;
    if (l2_model_score_text(m, f.prompts[i].data(), f.prompts[i].size(), &s) != L2_STATUS_OK || bits(s) != bits(out[i])) {
      ++failures;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FIXTURE_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  try {
    Fixture f = read_fixture(dir);
    Model model = load(dir + "/model.l2");
    CHECK(std::string(l2_version()) == L2_VERSION);

    size_t dims = 0;
    CHECK(l2_model_dims(model.get(), &dims) == L2_STATUS_OK && dims == f.dims);

    std::vector<float> scores = score_all(model.get(), f);
    for (size_t i = 0; i < scores.size(); i++) {
      CHECK(bits(scores[i]) == f.expected[i]);
      bool mal = false;
      CHECK(l2_model_decide(model.get(), scores[i], &mal) == L2_STATUS_OK && mal == f.malicious[i]);
    }

    // Errors: distinct codes, outputs untouched, details per thread.
    const l2_model* none = nullptr;
    CHECK(l2_model_load_path((dir + "/missing.l2").c_str(), &none) == L2_STATUS_IO && none == nullptr);
    CHECK(last_error().find("missing.l2") != std::string::npos);
    const std::string garbage = "definitely not safetensors";
    CHECK(l2_model_load_bytes(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(), &none) ==
          L2_STATUS_MODEL_CORRUPT);
    float s = 5.0f;
    CHECK(l2_model_score_text(model.get(), "\xc3\x28", 2, &s) == L2_STATUS_INVALID_UTF8 && s == 5.0f);
    std::vector<float> wrong(dims + 1, 0.0f);
    // A wide-and-deep model reads text only: embeddings of any width are an invalid parameter.
    const l2_status want = f.wide_deep ? L2_STATUS_INVALID_PARAM : L2_STATUS_WRONG_DIMS;
    CHECK(l2_model_score_embeddings(model.get(), wrong.data(), 1, dims + 1, &s, 1) == want && s == 5.0f);
    CHECK(l2_model_score_text(nullptr, "x", 1, &s) == L2_STATUS_NULL_PARAMETER);
    char small[2];
    size_t need = 0;
    CHECK(l2_model_metadata_json(model.get(), small, sizeof small, &need) == L2_STATUS_BUFFER_TOO_SMALL);
    std::string json(need, '\0');
    size_t n = 0;
    CHECK(l2_model_metadata_json(model.get(), &json[0], json.size(), &n) == L2_STATUS_OK && n + 1 == need);

    // 8 threads on one shared const model give the single-thread results bit for bit.
    std::vector<std::vector<float>> results(8);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); t++) {
      threads.emplace_back([&, t] {
        for (int r = 0; r < 10; r++) results[t] = score_all(model.get(), f);
      });
    }
    for (auto& th : threads) th.join();
    for (const auto& r : results) {
      CHECK(r.size() == scores.size());
      for (size_t i = 0; i < r.size() && i < scores.size(); i++) CHECK(bits(r[i]) == bits(scores[i]));
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  if (failures) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "test_api.cpp: all checks passed\n";
  return 0;
}
