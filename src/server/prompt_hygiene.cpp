#include "server/prompt_hygiene.h"

namespace agentserve::server {

bool normalize_attribution(std::string* text) {
  bool changed = false;
  size_t line = 0;
  while (line < text->size()) {
    size_t line_end = text->find('\n', line);
    if (line_end == std::string::npos) line_end = text->size();
    if (std::string_view(*text).substr(line, line_end - line).starts_with(kAttributionPrefix)) {
      size_t pos = line + kAttributionPrefix.size();
      while (true) {
        const size_t key = text->find("cch=", pos);
        if (key == std::string::npos || key >= line_end) break;
        // A field name starts the line's field list or follows a separator ("; cch=" or
        // " cch="), so "xcch=" is not it.
        const char before = (*text)[key - 1];
        const size_t value = key + 4;
        if (before != ' ' && before != ';' && before != ':') {
          pos = value;
          continue;
        }
        size_t value_end = value;
        while (value_end < line_end && (*text)[value_end] != ';' && (*text)[value_end] != ' ' &&
               (*text)[value_end] != '\t' && (*text)[value_end] != '\r')
          ++value_end;
        if (std::string_view(*text).substr(value, value_end - value) != kFixedCch) {
          text->replace(value, value_end - value, kFixedCch);
          line_end = line_end - (value_end - value) + kFixedCch.size();
          changed = true;
        }
        pos = value + kFixedCch.size();
      }
    }
    line = line_end + 1;
  }
  return changed;
}

}  // namespace agentserve::server
