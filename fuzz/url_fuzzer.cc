// URL percent-decoding (query strings and urlencoded bodies) and the encoders whose output the
// portal and the invitation mailto: links build from user text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "pc/common/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)pc::ParseUrlEncoded(text);
  // Whatever a value holds, encoding then decoding gives it back, and the encoded text is
  // only unreserved characters and escapes.
  const std::string encoded = pc::PercentEncode(text);
  pc::fuzz::Require(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789-._~%") == std::string::npos,
                    "PercentEncode left a reserved character");
  auto decoded = pc::ParseUrlEncoded("v=" + encoded);
  pc::fuzz::Require(decoded["v"] == text, "ParseUrlEncoded(PercentEncode(x)) != x");
  return 0;
}
