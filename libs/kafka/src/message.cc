#include "pc/kafka/message.h"

namespace pc::kafka {

std::string HeaderValue(const Headers& headers, const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace pc::kafka
