// URL text: percent-encoding for query values and mailto: parts, and decoding of
// application/x-www-form-urlencoded bodies and query strings.
//
//   std::string q = "/signin?next=" + pc::PercentEncode(path);
//   std::map<std::string, std::string> form = pc::ParseUrlEncoded(body);   // form["tenant"]
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pc {

// Every byte but RFC 3986's unreserved characters (A–Z a–z 0–9 - . _ ~) as %XX (upper case).
std::string PercentEncode(std::string_view text);

// name → value. '+' is a space, %XY a byte; a malformed escape is kept literally; for a
// repeated name the first wins.
std::map<std::string, std::string> ParseUrlEncoded(std::string_view text);

}  // namespace pc
