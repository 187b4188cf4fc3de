// BPE merge order on tiny hand-made tokenizer.json files, and the two merge paths (small
// arrays, heap) agreeing on real vocabularies.
#include "text/tokenizer/bpe.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/tokenizer_json.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

using nlohmann::json;

// A byte-level tokenizer.json over a handful of letters, with the given merges (in rank order)
// and extra vocabulary entries.
std::string tiny_tokenizer_json(const std::vector<std::string>& merges, bool ignore_merges = false,
                                const std::vector<std::string>& extra_vocab = {},
                                bool merges_as_pairs = false) {
  json vocab = json::object();
  int next = 0;
  for (const char* s : {"a", "b", "c", "d", "\xC4\xA0" /* Ġ = space */}) vocab[s] = next++;
  json merge_list = json::array();
  for (const std::string& m : merges) {
    const size_t sp = m.find(' ');
    const std::string joined = m.substr(0, sp) + m.substr(sp + 1);
    if (!vocab.contains(joined)) vocab[joined] = next++;
    if (merges_as_pairs) {
      merge_list.push_back(json::array({m.substr(0, sp), m.substr(sp + 1)}));
    } else {
      merge_list.push_back(m);
    }
  }
  for (const std::string& v : extra_vocab)
    if (!vocab.contains(v)) vocab[v] = next++;
  json j = {
      {"version", "1.0"},
      {"added_tokens", json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}, {"ignore_merges", ignore_merges}}},
  };
  return j.dump();
}

std::vector<std::string> pieces(const Tokenizer& tok, std::string_view text) {
  std::vector<std::string> out;
  for (int32_t id : tok.encode(text)) out.push_back(tok.token_bytes(id));
  return out;
}

std::unique_ptr<Tokenizer> load_tiny(const std::string& json_text) {
  auto r = Tokenizer::load_from_strings(json_text, "", "tiny.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(r).value() : nullptr;
}

using Pieces = std::vector<std::string>;

TEST(Bpe, LowestRankMergesFirst) {
  // "b c" outranks "a b": abcd -> a bc d -> abc d (through "a bc").
  auto tok = load_tiny(tiny_tokenizer_json({"b c", "a b", "a bc", "c d"}));
  ASSERT_TRUE(tok);
  EXPECT_EQ(pieces(*tok, "abcd"), (Pieces{"abc", "d"}));
  // Swapping the first two ranks changes the result: ab c d -> ab cd.
  auto swapped = load_tiny(tiny_tokenizer_json({"a b", "b c", "a bc", "c d"}));
  ASSERT_TRUE(swapped);
  EXPECT_EQ(pieces(*swapped, "abcd"), (Pieces{"ab", "cd"}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  auto tok = load_tiny(tiny_tokenizer_json({"a a"}));
  ASSERT_TRUE(tok);
  EXPECT_EQ(pieces(*tok, "aaa"), (Pieces{"aa", "a"}));
  EXPECT_EQ(pieces(*tok, "aaaaa"), (Pieces{"aa", "aa", "a"}));
  auto tok2 = load_tiny(tiny_tokenizer_json({"a a", "aa aa"}));
  ASSERT_TRUE(tok2);
  EXPECT_EQ(pieces(*tok2, "aaaaaaa"), (Pieces{"aaaa", "aa", "a"}));
}

TEST(Bpe, MergesMayBeWrittenAsPairs) {
  auto tok = load_tiny(tiny_tokenizer_json({"b c", "a b", "a bc"}, false, {}, true));
  ASSERT_TRUE(tok);
  EXPECT_EQ(pieces(*tok, "abc"), (Pieces{"abc"}));
}

TEST(Bpe, IgnoreMergesEmitsAVocabularyWordWhole) {
  // "abcd" is in the vocabulary but no merge sequence reaches it.
  const std::vector<std::string> merges = {"a b", "c d"};
  auto plain = load_tiny(tiny_tokenizer_json(merges, false, {"abcd"}));
  auto ignoring = load_tiny(tiny_tokenizer_json(merges, true, {"abcd"}));
  ASSERT_TRUE(plain && ignoring);
  EXPECT_EQ(pieces(*plain, "abcd"), (Pieces{"ab", "cd"}));
  EXPECT_EQ(pieces(*ignoring, "abcd"), (Pieces{"abcd"}));
  EXPECT_EQ(pieces(*ignoring, "abcda"), (Pieces{"ab", "cd", "a"}));
}

TEST(Bpe, BytesWithoutAVocabularyEntryAreDropped) {
  // Hugging Face drops characters that have no id when there is no unk_token.
  auto tok = load_tiny(tiny_tokenizer_json({"a b"}));
  ASSERT_TRUE(tok);
  EXPECT_EQ(pieces(*tok, "abz"), (Pieces{"ab"}));
}

TEST(Bpe, SmallAndHeapMergePathsAgreeOnRealVocabularies) {
  for (const char* name : {"qwen3", "llama3"}) {
    auto spec = tok::parse_tokenizer_json(
        testing::read_text_file(testing::model_dir(name) + "/tokenizer.json"), name);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    auto model = tok::BpeModel::build(spec->bpe, name);
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    std::mt19937 rng(std::random_device{}());
    // Words from the corpus (real merges) and random byte strings (odd ones), up to 64 bytes.
    std::vector<std::string> words;
    for (const std::string& text : testing::corpus()) {
      for (size_t pos = 0; pos < text.size(); pos += 64) words.push_back(text.substr(pos, 1 + rng() % 64));
      if (words.size() > 20000) break;
    }
    for (int i = 0; i < 5000; ++i) {
      std::string w;
      const int n = 1 + static_cast<int>(rng() % 64);
      const std::string alphabet = "aabbeeinnorsttt  \n\t.,_-()=01\xC3\xA9\xE4\xB8\xAD";
      for (int k = 0; k < n; ++k) w.push_back(rng() % 8 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()]);
      words.push_back(w);
    }
    size_t multi = 0;
    for (const std::string& w : words) {
      std::vector<int32_t> small, heap;
      (*model)->merge_word(w, &small, tok::BpeModel::MergePath::kSmall);
      (*model)->merge_word(w, &heap, tok::BpeModel::MergePath::kHeap);
      ASSERT_EQ(small, heap) << name << " word " << ::testing::PrintToString(w);
      if (small.size() > 1) ++multi;
    }
    EXPECT_GT(multi, words.size() / 10) << "the words should exercise real merges";
  }
}

TEST(Bpe, LongWordsUseTheHeapPathAndMatchTheReference) {
  // 64+ byte pre-tokens go through the heap; the reference test covers them against
  // @lenml/tokenizers too. Here: a long letter run decodes back and merges into few tokens.
  const Tokenizer& tok = testing::qwen3();
  const std::string word(500, 'a');
  const auto ids = tok.encode(word);
  EXPECT_EQ(tok.decode(ids), word);
  EXPECT_LT(ids.size(), 100u);
}

}  // namespace
}  // namespace agentserve
