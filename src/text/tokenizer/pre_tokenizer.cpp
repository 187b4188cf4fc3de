#include "text/tokenizer/pre_tokenizer.h"

#include "base/check.h"

namespace agentserve::tok {

const char kGpt2SplitPattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// One splitting stage: a pattern (regex or literal) with a behaviour; a ByteLevel stage may
// also prepend a space to each piece before splitting it.
struct PreTokenizer::Stage {
  std::unique_ptr<Regex> regex;  // null: literal pattern, or no split at all
  std::string literal;
  bool splits = true;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;

  bool next_match(std::string_view text, size_t start, size_t* b, size_t* e) const {
    if (regex) return regex->find(text, start, b, e);
    const size_t pos = text.find(literal, start);
    if (pos == std::string_view::npos) return false;
    *b = pos;
    *e = pos + literal.size();
    return true;
  }

  void split(std::string_view text, FunctionRef<void(std::string_view)> emit) const {
    if (!splits) {
      emit(text);
      return;
    }
    size_t pos = 0;
    size_t b = 0;
    size_t e = 0;
    if (behavior == SplitBehavior::kIsolated && !invert) {  // the common case, no buffering
      while (pos < text.size() && next_match(text, pos, &b, &e)) {
        if (b > pos) emit(text.substr(pos, b - pos));
        emit(text.substr(b, e - b));
        pos = e;
      }
      if (pos < text.size()) emit(text.substr(pos));
      return;
    }
    struct Span {
      size_t begin, end;
      bool is_match;
    };
    std::vector<Span> spans;
    while (pos < text.size() && next_match(text, pos, &b, &e)) {
      if (b > pos) spans.push_back({pos, b, invert});
      spans.push_back({b, e, !invert});
      pos = e;
    }
    if (pos < text.size()) spans.push_back({pos, text.size(), invert});

    size_t piece_begin = 0;  // start of the piece being accumulated
    auto emit_range = [&](size_t from, size_t to) {
      if (to > from) emit(text.substr(from, to - from));
    };
    for (size_t i = 0; i < spans.size(); ++i) {
      const Span& s = spans[i];
      switch (behavior) {
        case SplitBehavior::kIsolated:
          emit_range(s.begin, s.end);
          break;
        case SplitBehavior::kRemoved:
          if (!s.is_match) emit_range(s.begin, s.end);
          break;
        case SplitBehavior::kMergedWithPrevious:
          // A delimiter closes the piece before it.
          if (s.is_match) {
            emit_range(piece_begin, s.end);
            piece_begin = s.end;
          }
          break;
        case SplitBehavior::kMergedWithNext:
          // A delimiter opens a new piece.
          if (s.is_match) {
            emit_range(piece_begin, s.begin);
            piece_begin = s.begin;
          }
          break;
        case SplitBehavior::kContiguous:
          // Adjacent delimiters form one piece; other text is a piece of its own.
          if (!s.is_match || i + 1 == spans.size() || !spans[i + 1].is_match) {
            emit_range(piece_begin, s.end);
            piece_begin = s.end;
          }
          break;
      }
    }
    if (behavior == SplitBehavior::kMergedWithPrevious ||
        behavior == SplitBehavior::kMergedWithNext)
      emit_range(piece_begin, text.size());
  }
};

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::build(
    const std::vector<PreTokenizerStep>& steps) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const PreTokenizerStep& step : steps) {
    auto stage = std::make_unique<Stage>();
    switch (step.kind) {
      case PreTokenizerStep::Kind::kSplit:
        if (step.pattern.empty())
          return make_error(ErrorKind::kFormat,
                            step.where + ": Split pattern is empty, expected a non-empty pattern");
        if (step.pattern_is_regex) {
          AS_ASSIGN_OR_RETURN(stage->regex, Regex::compile(step.pattern, step.where));
        } else {
          stage->literal = step.pattern;
        }
        stage->behavior = step.behavior;
        stage->invert = step.invert;
        break;
      case PreTokenizerStep::Kind::kByteLevel:
        stage->add_prefix_space = step.add_prefix_space;
        stage->splits = step.use_regex;
        if (step.use_regex) {
          AS_ASSIGN_OR_RETURN(stage->regex, Regex::compile(kGpt2SplitPattern, step.where));
        }
        break;
      case PreTokenizerStep::Kind::kDigits:
        // Rust's char::is_numeric is the N categories.
        AS_ASSIGN_OR_RETURN(stage->regex,
                            Regex::compile(step.individual_digits ? "\\p{N}" : "\\p{N}+",
                                           step.where));
        break;
    }
    p->stages_.push_back(std::move(stage));
  }
  return p;
}

void PreTokenizer::split(std::string_view text, FunctionRef<void(std::string_view)> emit) const {
  if (text.empty()) return;
  run(text, 0, emit);
}

void PreTokenizer::run(std::string_view text, size_t stage,
                       FunctionRef<void(std::string_view)> emit) const {
  if (stage == stages_.size()) {
    emit(text);
    return;
  }
  const Stage& s = *stages_[stage];
  auto next = [&](std::string_view piece) { run(piece, stage + 1, emit); };
  if (s.add_prefix_space && text.front() != ' ') {
    std::string prefixed;
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    s.split(prefixed, next);
    return;
  }
  s.split(text, next);
}

}  // namespace agentserve::tok
