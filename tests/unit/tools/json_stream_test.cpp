// JsonStream against nlohmann::json as the oracle: random documents written the way models
// write them (random whitespace, raw control characters in strings, every escape form, CJK and
// emoji), fed in random cuts; every prefix must close into valid JSON; broken input must be
// caught at the byte nlohmann reports.
#include "tools/json_stream.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tool_test_util.h"

namespace agentserve::tools {
namespace {

using nlohmann::ordered_json;

// One document written twice: as generated (raw control characters allowed inside strings)
// and as JsonStream must emit it (those escaped).
struct Written {
  std::string input;
  std::string expected;
  void both(std::string_view s) {
    input += s;
    expected += s;
  }
};

class DocWriter {
 public:
  explicit DocWriter(uint32_t seed) : rng_(seed) {}

  ordered_json random_value(int depth) {
    const int pick = depth >= 4 ? uniform(0, 3) : uniform(0, 6);
    switch (pick) {
      case 0:
        return random_string();
      case 1:
        return random_number();
      case 2:
        return uniform(0, 2) == 0 ? ordered_json(nullptr) : ordered_json(uniform(0, 1) == 1);
      case 3:
        return random_string();
      case 4:
      case 5:
        return random_object(depth + 1);
      default: {
        ordered_json a = ordered_json::array();
        const int n = uniform(0, 4);
        for (int i = 0; i < n; ++i) a.push_back(random_value(depth + 1));
        return a;
      }
    }
  }

  ordered_json random_object(int depth) {
    ordered_json o = ordered_json::object();
    const int n = uniform(0, 5);
    for (int i = 0; i < n; ++i) o[random_string() + std::to_string(i)] = random_value(depth + 1);
    return o;
  }

  void write(const ordered_json& v, Written* w) {
    switch (v.type()) {
      case ordered_json::value_t::object: {
        w->both("{");
        bool first = true;
        for (const auto& [k, val] : v.items()) {
          if (!first) w->both(",");
          first = false;
          ws(w);
          write_string(k, w);
          ws(w);
          w->both(":");
          ws(w);
          write(val, w);
          ws(w);
        }
        if (v.empty()) ws(w);
        w->both("}");
        return;
      }
      case ordered_json::value_t::array: {
        w->both("[");
        bool first = true;
        for (const auto& val : v) {
          if (!first) w->both(",");
          first = false;
          ws(w);
          write(val, w);
          ws(w);
        }
        w->both("]");
        return;
      }
      case ordered_json::value_t::string:
        write_string(v.get<std::string>(), w);
        return;
      default:
        w->both(v.dump());
        return;
    }
  }

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::mt19937& rng() { return rng_; }

 private:
  void ws(Written* w) {
    static const char* kWs[] = {"", "", "", " ", "\n", "\n  ", "\t", "\r\n", "  "};
    w->both(spaces_only_ ? kWs[uniform(0, 3)] : kWs[uniform(0, 8)]);
  }

  std::string random_string() {
    static const char* kPieces[] = {
        "a",           "path",   "x",          " ",           "\"",
        "\\",          "/",      "\n",         "\t",          "\r",
        "\x01",        "\x1f",   "\b",         "\f",          "é",
        "中文",        "日本語", "🙂",       "👩‍💻", "👨‍👩‍👧",
        "\x7f",        "{",      "}",          "[",           "]",
        ":",           ",",      "true",       "-1.5e3",      "'",
        "<tool_call>", "\u00a0", "\U0001F600",
    };
    std::string s;
    const int n = uniform(0, 8);
    for (int i = 0; i < n; ++i) s += kPieces[uniform(0, sizeof(kPieces) / sizeof(*kPieces) - 1)];
    return s;
  }

  ordered_json random_number() {
    switch (uniform(0, 4)) {
      case 0:
        return uniform(-1000, 1000);
      case 1:
        return 0;
      case 2:
        return uniform(-100000, 100000) / 64.0;
      case 3:
        return 1.5e300;
      default:
        return -7.25e-5;
    }
  }

  // Every way JSON allows a character to be written, chosen at random.
  void write_string(const std::string& s, Written* w) {
    w->both("\"");
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        w->both(c == '"' ? "\\\"" : "\\\\");
        ++i;
      } else if (c < 0x20) {
        // Raw (as models write it) or escaped by the model itself.
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        std::string esc = c == '\n'   ? "\\n"
                          : c == '\t' ? "\\t"
                          : c == '\r' ? "\\r"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                                      : buf;
        if (uniform(0, 2) > 0) {
          w->input.push_back(static_cast<char>(c));
          w->expected += esc;
        } else {
          w->both(uniform(0, 1) ? esc : std::string(buf));
        }
        ++i;
      } else if (c == '/' && uniform(0, 1)) {
        w->both("\\/");
        ++i;
      } else if (c >= 0x80 && uniform(0, 3) == 0) {
        size_t pos = i;
        const uint32_t cp = utf8_decode_one_for_test(s, &pos);
        char buf[16];
        if (cp >= 0x10000) {
          const uint32_t v = cp - 0x10000;
          std::snprintf(buf, sizeof buf, uniform(0, 1) ? "\\u%04x\\u%04x" : "\\u%04X\\u%04X",
                        0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        } else {
          std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        }
        w->both(buf);
        i = pos;
      } else {
        const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        w->both(std::string_view(&s[i], n));
        i += n;
      }
    }
    w->both("\"");
  }

  static uint32_t utf8_decode_one_for_test(const std::string& s, size_t* pos) {
    const unsigned char c = static_cast<unsigned char>(s[*pos]);
    const int n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = c & (0xFF >> (n + 1));
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*pos + k]) & 0x3F);
    *pos += static_cast<size_t>(n);
    return cp;
  }

  std::mt19937 rng_;

 public:
  // Only ' ' between tokens: a byte inserted before it then never leaves a raw control
  // character inside a string, which JsonStream accepts (escaping it) and nlohmann does not.
  bool spaces_only_ = false;
};

// Feeds `input` in the given pieces; returns the emitted text and the total bytes consumed.
std::string feed_all(JsonStream* js, const std::vector<std::string>& pieces, size_t* consumed) {
  std::string out;
  *consumed = 0;
  for (const auto& p : pieces) *consumed += js->feed(p, &out);
  return out;
}

bool parses(const std::string& text) {
  try {
    return !ordered_json::parse(text).is_discarded();
  } catch (const std::exception&) {
    return false;
  }
}

TEST(JsonStream, RandomDocumentsRoundTripInAnyCut) {
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    DocWriter gen(seed);
    const ordered_json doc = gen.random_object(0);
    Written w;
    gen.write(doc, &w);
    ASSERT_EQ(ordered_json::parse(w.expected), doc) << w.expected;
    const std::string trailer = gen.uniform(0, 1) ? "\n</tool_call>" : "}";
    const std::string text = w.input + trailer;
    for (int cut = 0; cut < 6; ++cut) {
      JsonStream js;
      size_t consumed = 0;
      const auto pieces = cut == 0 ? std::vector<std::string>{text}
                                   : testing::random_pieces(text, seed * 31 + cut, 1 + cut * 3);
      const std::string out = feed_all(&js, pieces, &consumed);
      ASSERT_EQ(js.state(), JsonStream::State::kComplete) << w.input;
      EXPECT_EQ(consumed, w.input.size());
      EXPECT_EQ(js.consumed_bytes(), w.input.size());
      EXPECT_EQ(out, w.expected);
      EXPECT_EQ(js.closing(), "");
      EXPECT_EQ(js.depth(), 0u);
    }
  }
}

TEST(JsonStream, EveryPrefixClosesIntoValidJson) {
  for (uint32_t seed = 1000; seed < 1150; ++seed) {
    DocWriter gen(seed);
    const ordered_json doc = gen.random_object(0);
    Written w;
    gen.write(doc, &w);
    // Byte by byte: the emitted text after each byte, plus closing(), must parse.
    JsonStream js;
    std::string out;
    for (size_t i = 0; i < w.input.size(); ++i) {
      ASSERT_EQ(js.feed(std::string_view(&w.input[i], 1), &out), 1u) << w.input.substr(0, i + 1);
      const std::string closed = out + js.closing();
      ASSERT_TRUE(parses(closed)) << "prefix: " << w.input.substr(0, i + 1)
                                  << "\nclosed: " << closed;
      ASSERT_TRUE(ordered_json::parse(closed).is_object());
      // What is emitted is always a prefix of the final normalized text.
      ASSERT_EQ(w.expected.compare(0, out.size(), out), 0);
    }
    EXPECT_EQ(out, w.expected);
  }
}

TEST(JsonStream, HandWrittenClosings) {
  struct Case {
    const char* prefix;
    const char* closing;
  };
  const Case cases[] = {
      {"", "{}"},
      {"  ", "{}"},
      {"{", "}"},
      {"{\"pa", "\": null}"},
      {"{\"path\"", ": null}"},
      {"{\"path\" ", ": null}"},
      {"{\"path\":", "null}"},
      {"{\"path\": \"a/b", "\"}"},
      {"{\"path\": \"a\\", "\\\"}"},
      {"{\"s\": \"\\u00", "00\"}"},
      {"{\"s\": \"\\uD83D", "\\uDC00\"}"},
      {"{\"s\": \"\\uD83D\\", "uDC00\"}"},
      {"{\"s\": \"\\uD83D\\uDE", "00\"}"},
      {"{\"a\": tru", "e}"},
      {"{\"a\": fa", "lse}"},
      {"{\"a\": n", "ull}"},
      {"{\"a\": -", "0}"},
      {"{\"a\": 1.", "0}"},
      {"{\"a\": 1e", "0}"},
      {"{\"a\": 1E+", "0}"},
      {"{\"a\": 12", "}"},
      {"{\"a\": [1, [2, {\"b\": [", "]}]]}"},
      {"{\"a\": 1,", "}"},
      {"{\"a\": 1,  \n", "}"},
      {"{\"a\": [1,", "]}"},
      {"{\"a\": [", "]}"},
  };
  for (const auto& c : cases) {
    JsonStream js;
    std::string out;
    ASSERT_EQ(js.feed(c.prefix, &out), std::string_view(c.prefix).size()) << c.prefix;
    EXPECT_EQ(js.state(), JsonStream::State::kInProgress);
    EXPECT_EQ(js.closing(), c.closing) << c.prefix;
    EXPECT_TRUE(parses(out + js.closing())) << out + js.closing();
  }
}

TEST(JsonStream, HeldCommaIsEmittedWithTheNextMember) {
  JsonStream js;
  std::string out;
  js.feed("{\"a\": 1, ", &out);
  EXPECT_EQ(out, "{\"a\": 1");
  js.feed("\"b", &out);
  EXPECT_EQ(out, "{\"a\": 1, \"b");
}

TEST(JsonStream, IncompleteUtf8IsHeldUntilComplete) {
  JsonStream js;
  std::string out;
  const std::string emoji = "🙂";  // 4 bytes
  js.feed("{\"e\": \"" + emoji.substr(0, 2), &out);
  EXPECT_EQ(out, "{\"e\": \"");
  js.feed(emoji.substr(2), &out);
  EXPECT_EQ(out, "{\"e\": \"" + emoji);
}

// Broken input: JsonStream must stop at the byte nlohmann's parser rejects.
TEST(JsonStream, BreaksWhereNlohmannDoes) {
  const char* kBytes[] = {"{", "}", "[", "]", ":", ",",  "\"", "x", "1", "0", "-", ".",
                          "e", "+", "t", "n", " ", "\\", "u",  "D", "C", "/", "é"};
  int broken_seen = 0;
  for (uint32_t seed = 1; seed <= 600; ++seed) {
    DocWriter gen(seed + 5000);
    gen.spaces_only_ = true;
    Written w;
    gen.write(gen.random_object(0), &w);
    // The expected text has no raw control characters: nlohmann sees what JsonStream sees.
    const std::string& doc = w.expected;
    const size_t cut = static_cast<size_t>(gen.uniform(0, static_cast<int>(doc.size()) - 1));
    const std::string text = doc.substr(0, cut) + kBytes[gen.uniform(0, 22)] + doc.substr(cut);

    JsonStream js;
    std::string out;
    const size_t consumed = js.feed(text, &out);
    size_t error_at = text.size();  // nlohmann: index of the offending byte
    bool ok = true;
    try {
      ok = !ordered_json::parse(text).is_discarded();
    } catch (const ordered_json::parse_error& e) {
      ok = false;
      error_at = e.byte - 1;
    }
    if (js.state() == JsonStream::State::kComplete) {
      // The value ended early; nlohmann then rejects the first non-space byte after it.
      EXPECT_TRUE(parses(text.substr(0, consumed))) << text;
      EXPECT_EQ(out, text.substr(0, consumed));
      size_t next = consumed;
      while (next < text.size() &&
             std::string_view(" \n\r\t").find(text[next]) != std::string_view::npos) {
        ++next;
      }
      if (next < text.size()) {
        EXPECT_FALSE(ok) << text;
      }
      continue;
    }
    if (ok) {
      ADD_FAILURE() << "nlohmann accepts what JsonStream does not finish: " << text;
      continue;
    }
    if (js.state() == JsonStream::State::kInProgress) {
      EXPECT_EQ(consumed, text.size());
      EXPECT_GE(error_at, text.size()) << text;  // nlohmann: unexpected end of input
      continue;
    }
    ++broken_seen;
    // nlohmann's lexer reports a bad token at the byte that made it bad, except that for a
    // literal or number it reads on; JsonStream must never stop later than nlohmann.
    EXPECT_LE(consumed, error_at) << text;
    EXPECT_TRUE(parses(out + js.closing())) << out + js.closing();
  }
  EXPECT_GT(broken_seen, 200);
}

TEST(JsonStream, HandWrittenBreaks) {
  struct Case {
    const char* text;
    size_t consumed;
  };
  const Case cases[] = {
      {"[1]", 0},                        // not an object
      {"{\"a\": 01}", 7},                // leading zero: the '1' cannot follow "0"
      {"{\"a\": 1,}", 8},                // trailing comma
      {"{\"a\" 1}", 5},                  // no colon
      {"{a: 1}", 1},                     // unquoted key
      {"{\"a\": tx}", 7},                // bad literal
      {"{\"a\": \"\\q\"}", 8},           // bad escape
      {"{\"a\": \"\\uDC00\"}", 10},      // lone low surrogate, caught at its second digit
      {"{\"a\": \"\\uD800x\"}", 13},     // high surrogate not followed by a low one
      {"{\"a\": \"\xff\"}", 7},          // not UTF-8
      {"{\"a\": \"\xe0\x80\x80\"}", 8},  // overlong
      {"{\"a\": 1}}", 8},                // complete at 8, the second '}' is not consumed
  };
  for (const auto& c : cases) {
    JsonStream js;
    std::string out;
    EXPECT_EQ(js.feed(c.text, &out), c.consumed) << c.text;
    EXPECT_TRUE(parses(out + js.closing())) << out + js.closing();
  }
}

TEST(JsonStream, AnyTopLevelValue) {
  struct Case {
    const char* text;
    size_t consumed;
    JsonStream::State state;
  };
  const Case cases[] = {
      {"\"read_file\", ", 11, JsonStream::State::kComplete},
      {"  12.5e3}", 9 - 1, JsonStream::State::kComplete},
      {"true,", 4, JsonStream::State::kComplete},
      {"[1, \"a\"] x", 8, JsonStream::State::kComplete},
      {"12", 2, JsonStream::State::kInProgress},
  };
  for (const auto& c : cases) {
    JsonStream js(JsonStream::Top::kAny);
    std::string out;
    EXPECT_EQ(js.feed(c.text, &out), c.consumed) << c.text;
    EXPECT_EQ(js.state(), c.state) << c.text;
  }
  JsonStream number(JsonStream::Top::kAny);
  std::string out;
  number.feed("-3", &out);
  number.end_of_input();
  EXPECT_EQ(number.state(), JsonStream::State::kComplete);
  JsonStream cut(JsonStream::Top::kAny);
  cut.feed("-", &out);
  cut.end_of_input();
  EXPECT_EQ(cut.state(), JsonStream::State::kInProgress);
}

// Found by fuzz_test: nlohmann::json rejects a number that rounds to infinity, so JsonStream
// stops at the digit that takes a number there; the exact limit is 2^1024 - 2^970 (309 digits).
TEST(JsonStream, NumberTooLargeForADoubleBreaksAtItsDigit) {
  const std::string limit =
      "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
      "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
      "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
      "342711559699508093042880177904174497792";
  std::string below = limit;
  below.back() = '1';
  for (const std::string& fits :
       {std::string("1e308"), std::string("1.7976931348623157e308"), std::string("-1e-400"),
        std::string("0.0e99999"), below, std::string("0.") + limit + "e308"}) {
    const std::string text = "{\"a\": " + fits + "}";
    JsonStream js;
    std::string out;
    EXPECT_EQ(js.feed(text, &out), text.size()) << fits;
    EXPECT_EQ(js.state(), JsonStream::State::kComplete) << fits;
    EXPECT_TRUE(parses(out)) << fits;
  }
  struct Case {
    std::string number;
    size_t good;  // bytes of it before the offending digit
  };
  const Case cases[] = {{"1e309", 4},
                        {"-1e400", 5},
                        {"1e01234567890", 6},
                        {"1.7976931348623159e308", 21},
                        {limit, limit.size() - 1},
                        {std::string(400, '9'), 308},
                        {"0.00" + limit + "e311", 4 + limit.size() + 3}};
  for (const auto& c : cases) {
    const std::string text = "{\"a\": " + c.number + "}";
    EXPECT_FALSE(parses(text)) << c.number;  // nlohmann agrees that it is too large
    JsonStream js;
    std::string out;
    EXPECT_EQ(js.feed(text, &out), 6 + c.good) << c.number;
    EXPECT_EQ(js.state(), JsonStream::State::kBroken) << c.number;
    EXPECT_TRUE(parses(out + js.closing())) << out + js.closing();
  }
}

}  // namespace
}  // namespace agentserve::tools
