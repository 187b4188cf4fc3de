// Shared pieces of the filter implementations (engine-internal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/template/builtins.h"
#include "text/template/objects.h"
#include "text/template/value.h"

namespace agentserve::tmpl {

enum FilterId : int {
  kFAbs, kFAttr, kFBatch, kFCapitalize, kFCenter, kFCount, kFD, kFDefault, kFDictsort, kFE,
  kFEscape, kFFilesizeformat, kFFirst, kFFloat, kFForceescape, kFFormat, kFIndent, kFInt,
  kFJoin, kFLast, kFLength, kFList, kFLower, kFItems, kFMap, kFMin, kFMax, kFReject,
  kFRejectattr, kFReplace, kFReverse, kFRound, kFSafe, kFSelect, kFSelectattr, kFSlice,
  kFSort, kFString, kFStriptags, kFSum, kFTitle, kFTrim, kFTruncate, kFUnique, kFUpper,
  kFWordcount, kFTojson,
  kFilterCount,
};

inline Value str_value(std::string s, bool markup = false) {
  return Value::adopt(ValueKind::kString, detail::new_str(s, markup));
}
inline bool is_markup(const Value& v) { return v.is_string() && v.str_obj()->markup; }

// Jinja2's make_attrgetter: "a.b.0" looked up with environment.getitem, part by part.
Value get_attribute_path(const Value& item, const Value& attribute, const Value* default_value);

// The tojson filter writing straight into `out` (what `{{ x|tojson }}` renders).
void append_tojson(const Value& value, const Args& args, std::string* out);

// Sequence filters (filters_seq.cpp).
Value filter_seq(Evaluator& ev, int id, const Value& value, const Args& args);

}  // namespace agentserve::tmpl
