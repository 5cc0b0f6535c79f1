// The invitation email draft and its mailto: URL from partner-controlled text (message, custom
// body, partner name) in any locale string.
#include <cstddef>
#include <cstdint>
#include <string>

#include "email_draft.h"
#include "fuzz_common.h"
#include "pc/common/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  pc::invitation::DraftInput draft;
  draft.locale = in.ConsumeRandomLengthString(16);
  draft.partner_name = in.ConsumeRandomLengthString(64);
  draft.kind = in.ConsumeBool() ? partnercenter::common::v1::INVITATION_KIND_ADMIN_RESTORE
                                : partnercenter::common::v1::INVITATION_KIND_RESELLER_RELATIONSHIP;
  draft.include_admin = in.ConsumeBool();
  draft.message = in.ConsumeRandomLengthString(256);
  draft.custom_body = in.ConsumeRandomLengthString(512);
  draft.expire_time = absl::FromUnixSeconds(in.ConsumeIntegralInRange<int64_t>(0, 253'402'300'799));
  const std::string recipient = in.ConsumeRandomLengthString(64);
  const std::string link = "https://portal.example/invitations/accept?token=" +
                           pc::PercentEncode(in.ConsumeRemainingBytesAsString());

  const pc::invitation::EmailText text = pc::invitation::ComposeEmail(draft);
  pc::fuzz::Require(text.body.find(pc::invitation::kLinkPlaceholder) != std::string::npos,
                    "the body lost the link placeholder");
  const auto rendered = pc::invitation::RenderDraft(text, link, recipient, draft.locale);
  pc::fuzz::Require(rendered.body().find(link) != std::string::npos, "the body lost the link");
  pc::fuzz::Require(rendered.mailto_url().rfind("mailto:", 0) == 0, "not a mailto: URL");
  // The URL is one line of URL characters: no header injection through the subject or body.
  pc::fuzz::Require(rendered.mailto_url().find_first_of("\r\n ") == std::string::npos,
                    "the mailto: URL has a raw CR, LF or space");
  return 0;
}
