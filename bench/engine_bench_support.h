// What the in-process engine benchmarks share: loading the model named on the command line.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "model/weights.h"

namespace agentserve::bench {

// The model in `dir`, or null after printing why it could not be loaded.
inline std::unique_ptr<LoadedModel> load_model_or_report(const std::string& dir) {
  auto model = load_model(dir);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.error().to_string().c_str());
    return nullptr;
  }
  return std::move(*model);
}

}  // namespace agentserve::bench
