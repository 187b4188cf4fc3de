// Adapts a conversation to what its chat template can express (capabilities.h), so that any
// client conversation renders instead of failing, and so that an adaptation only ever changes
// the tail of the prompt: turn N+1 must render turn N's history to the same bytes.
//
// The rules, in the order they apply (docs/chat_templates.md explains each):
//   1. role "developer" becomes "system" where the template has no developer role;
//   2. several system messages at the start (e.g. Anthropic's system blocks) become one,
//      their texts joined by a blank line;
//   3. a system message after the start stays in place where the template renders it there;
//      otherwise it becomes a user message at its own position (never moved to the front);
//   4. a leading system message the template cannot render is folded into the first user
//      message (its text, a blank line, then the user's text);
//   5. where the template has no tool role, tool results become user messages (their text);
//      where it prints no tool calls, each call is appended to the assistant's text as a line
//      {"name": ..., "arguments": {...}}; where only one call per assistant turn renders, a
//      turn with several calls becomes one turn per call, each followed by its result; where
//      a user message may not follow tool results, its text is appended to the last result
//      (a blank line between);
//   6. where the template demands strict alternation, consecutive user (or assistant)
//      messages are merged, texts joined by a blank line, tool calls concatenated;
//   7. content parts become one string (text parts joined by "\n") unless the template reads
//      part lists; images become the text "[image]" (agentserve serves text-only models);
//      null content becomes "" where the template would fail on it or print "None", and an
//      assistant turn with tool calls gets null content where only that prints the calls;
//   8. tool-call arguments go in the form the template prints: the client's own JSON text
//      where the template prints strings (exactly what the model generated), else the
//      object, key order kept (serialised like json.dumps where only strings are printed);
//   9. tool-call ids become 9 alphanumerics (stable hash) where the template demands it;
//  10. tool definitions go where the template reads them: the tools variable (in OpenAI's
//      {"type": "function", "function": ...} shape, or as bare function objects where the
//      template reads those), or a JSON "tools" field of the system message (created if
//      there is none).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "text/chat/capabilities.h"
#include "text/chat/conversation.h"
#include "text/chat/template_context.h"

namespace agentserve::chat {

struct AdaptedConversation {
  TemplateInputs inputs;
  std::vector<std::string> notes;  // which rules applied, for logs and `agentserve template`
};

Result<AdaptedConversation> adapt_conversation(const Conversation& conversation,
                                               const TemplateCapabilities& caps);

// The 9-alphanumeric id that stands for `id` in templates that demand one (rule 9); ids that
// already have that form are kept.
std::string nine_char_call_id(const std::string& id);

}  // namespace agentserve::chat
