// POST /v1/completions: the legacy text-in, text-out endpoint. The prompt is used as it is (no
// chat template); tokenised as Hugging Face's tokenizer(prompt) does, special-token text
// included, because raw completion clients write the template themselves.
#pragma once

#include <memory>

#include "server/http_exchange.h"
#include "server/server_context.h"

namespace agentserve::server::openai {

void handle_completions(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange);

}  // namespace agentserve::server::openai
