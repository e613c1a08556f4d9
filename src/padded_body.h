// A metadata body with the spare bytes simdjson reads past its end, by
// construction: the only way to hand text to the parser, so a forgotten
// reserve can never become an out-of-bounds read.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace emp {

class PaddedBody {
 public:
  PaddedBody() = default;
  explicit PaddedBody(std::string_view text) { assign(text); }

  void clear() { text_.clear(); }
  void assign(std::string_view text) {
    text_.clear();
    append(text.data(), text.size());
  }
  void append(const char* data, size_t n) {
    const size_t need = text_.size() + n + simdjson::SIMDJSON_PADDING;
    if (text_.capacity() < need) text_.reserve(std::max(need, text_.capacity() * 2));
    text_.append(data, n);
  }

  size_t size() const { return text_.size(); }
  bool empty() const { return text_.empty(); }
  std::string_view view() const { return text_; }
  simdjson::padded_string_view padded() const {
    return simdjson::padded_string_view(text_.data(), text_.size(), text_.capacity());
  }
  // Gives the memory back (after an unusually large body).
  void shrink() { std::string().swap(text_); }

 private:
  std::string text_;  // capacity ≥ size + SIMDJSON_PADDING whenever non-empty
};

}  // namespace emp
