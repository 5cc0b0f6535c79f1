#include "domain.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "pc/auth/authorization.h"
#include "pc/common/errors.h"
#include "spdlog/spdlog.h"
#include "pc/common/status_macros.h"
#include "pc/common/validation.h"

namespace pc::notification {
namespace {

using google::protobuf::util::TimeUtil;
using pc::auth::kRoleCustomerAdmin;
using pc::auth::kRolePartnerAdmin;
using pc::auth::kRolePartnerAgent;

constexpr int kMaxPageSize = 200;
constexpr int kBatch = 100;

absl::Status ValidatePageSize(int32_t n) {
  if (n < 0 || n > kMaxPageSize) {
    return InvalidFieldError("page_size", "must be between 1 and 200 (0 means 50)");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ByLastChange(const std::string& order_by, const std::string& name_order) {
  if (order_by.empty() || order_by == name_order || order_by == name_order + " asc") return false;
  if (order_by == "last_change desc") return true;
  return InvalidFieldError("order_by",
                           absl::StrCat("must be '", name_order, " asc' or 'last_change desc'"));
}

// Opaque: "n1.<order>.<b64 key>.<b64 id>".
std::string Token(bool by_last_change, const std::string& key, const std::string& id) {
  return absl::StrCat("n1.", by_last_change ? 1 : 0, ".", absl::WebSafeBase64Escape(key), ".",
                      absl::WebSafeBase64Escape(id));
}

absl::Status ParseToken(const std::string& token, bool by_last_change, PageQuery* q) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string key, id;
  if (parts.size() != 4 || parts[0] != "n1" || parts[1] != (by_last_change ? "1" : "0") ||
      !absl::WebSafeBase64Unescape(parts[2], &key) || !absl::WebSafeBase64Unescape(parts[3], &id)) {
    return InvalidFieldError("page_token", "is not a token this page returned");
  }
  q->after_key = key;
  q->after_id = id;
  return absl::OkStatus();
}

std::string KeyOf(bool by_last_change, const std::string& name, const v1::LastChange& last) {
  return by_last_change ? absl::StrCat(TimeUtil::TimestampToMicroseconds(last.occurred_at()))
                        : absl::AsciiStrToLower(name);
}

}  // namespace

void FeedSignal::Notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void FeedSignal::WaitAfter(uint64_t generation, absl::Duration timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return generation_ != generation || shutdown_; });
}

uint64_t FeedSignal::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void FeedSignal::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

bool FeedSignal::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutdown_;
}

absl::StatusOr<std::string> NotificationDomain::PartnerOf(const CallContext& call,
                                                          const std::string& requested) {
  PC_RETURN_IF_ERROR(
      pc::auth::RequireCaller(call.claims, {kRolePartnerAdmin, kRolePartnerAgent}, {}));
  const std::string partner = requested.empty() ? call.claims.tenant_id : requested;
  PC_RETURN_IF_ERROR(ValidateId("partner_id", partner));
  PC_RETURN_IF_ERROR(pc::auth::RequireTenant(call.claims, partner));
  return partner;
}

absl::StatusOr<std::string> NotificationDomain::CustomerOf(const CallContext& call,
                                                           const std::string& requested) {
  PC_RETURN_IF_ERROR(pc::auth::RequireCaller(call.claims, {kRoleCustomerAdmin}, {}));
  const std::string customer = requested.empty() ? call.claims.tenant_id : requested;
  PC_RETURN_IF_ERROR(ValidateId("customer_id", customer));
  PC_RETURN_IF_ERROR(pc::auth::RequireTenant(call.claims, customer));
  return customer;
}

absl::StatusOr<v1::CustomersPage> NotificationDomain::GetCustomersPage(
    const CallContext& call, const v1::GetCustomersPageRequest& req) {
  PC_ASSIGN_OR_RETURN(std::string partner, PartnerOf(call, req.partner_id()));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  PC_RETURN_IF_ERROR(ValidateText("name_prefix", req.name_prefix(), 200));
  std::vector<int> admin_access;  // distinct values: one SQL placeholder each
  for (int a : req.admin_access()) {
    if (a == 0 || !common::AdminAccess_IsValid(a)) {
      return InvalidFieldError("admin_access", "has an unknown value");
    }
    if (std::find(admin_access.begin(), admin_access.end(), a) == admin_access.end()) {
      admin_access.push_back(a);
    }
  }
  PC_ASSIGN_OR_RETURN(bool by_last_change, ByLastChange(req.order_by(), "company_name"));
  const int limit = req.page_size() == 0 ? 50 : req.page_size();
  PageQuery q{.cloud = options_.cloud,
              .owner_id = partner,
              .name_prefix = absl::AsciiStrToLower(req.name_prefix()),
              .admin_access = std::move(admin_access),
              .by_last_change = by_last_change,
              .limit = limit + 1};
  if (!req.page_token().empty()) PC_RETURN_IF_ERROR(ParseToken(req.page_token(), by_last_change, &q));
  v1::CustomersPage page;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(int64_t head, tx.Head(options_.cloud));
    page.set_as_of_sequence(head);
    PC_ASSIGN_OR_RETURN(std::vector<v1::CustomerRow> rows, tx.CustomerRows(q));
    for (int i = 0; i < static_cast<int>(rows.size()) && i < limit; ++i) {
      *page.add_customers() = rows[i];
    }
    if (static_cast<int>(rows.size()) > limit) {
      const v1::CustomerRow& last = rows[limit - 1];
      page.set_next_page_token(Token(by_last_change,
                                     KeyOf(by_last_change, last.company_name(), last.last_change()),
                                     last.customer_id()));
    }
    if (req.include_invitations() && req.page_token().empty()) {
      PC_ASSIGN_OR_RETURN(std::vector<v1::InvitationRow> invitations,
                          tx.InvitationRows(options_.cloud, partner, kMaxPageSize));
      for (auto& i : invitations) *page.add_invitations() = std::move(i);
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<v1::PartnersPage> NotificationDomain::GetPartnersPage(
    const CallContext& call, const v1::GetPartnersPageRequest& req) {
  PC_ASSIGN_OR_RETURN(std::string customer, CustomerOf(call, req.customer_id()));
  PC_RETURN_IF_ERROR(ValidatePageSize(req.page_size()));
  PC_ASSIGN_OR_RETURN(bool by_last_change, ByLastChange(req.order_by(), "partner_name"));
  const int limit = req.page_size() == 0 ? 50 : req.page_size();
  PageQuery q{.cloud = options_.cloud, .owner_id = customer, .by_last_change = by_last_change,
              .limit = limit + 1};
  if (!req.page_token().empty()) PC_RETURN_IF_ERROR(ParseToken(req.page_token(), by_last_change, &q));
  v1::PartnersPage page;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(int64_t head, tx.Head(options_.cloud));
    page.set_as_of_sequence(head);
    PC_ASSIGN_OR_RETURN(std::vector<v1::PartnerRow> rows, tx.PartnerRows(q));
    for (int i = 0; i < static_cast<int>(rows.size()) && i < limit; ++i) {
      *page.add_partners() = rows[i];
    }
    if (static_cast<int>(rows.size()) > limit) {
      const v1::PartnerRow& last = rows[limit - 1];
      page.set_next_page_token(Token(
          by_last_change, KeyOf(by_last_change, last.partner_display_name(), last.last_change()),
          last.partner_id()));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::Status NotificationDomain::ReadFeed(Feed feed, const std::string& owner, int64_t cursor,
                                         uint64_t generation, bool caught_up, int64_t* head,
                                         std::vector<std::pair<int64_t, std::string>>* batch,
                                         int64_t* pending) {
  constexpr size_t kCacheSize = 256;
  constexpr absl::Duration kIdle = absl::Minutes(5);
  const absl::Time now = absl::Now();
  std::shared_ptr<FeedCache> cache;
  {
    std::lock_guard lock(caches_mu_);
    auto& slot = caches_[{static_cast<int>(feed), owner}];
    if (!slot) {
      slot = std::make_shared<FeedCache>();
      // A new feed is being watched: forget feeds nobody has read for a while, so memory
      // follows the feeds watched now, not every feed ever watched.
      for (auto it = caches_.begin(); it != caches_.end();) {
        if (it->second != slot && now - it->second->used_at.load() > kIdle) {
          it = caches_.erase(it);
        } else {
          ++it;
        }
      }
    }
    cache = slot;
  }
  cache->used_at = now;
  std::lock_guard lock(cache->mu);
  if (!cache->valid || cache->generation < generation ||
      now - cache->read_at >= options_.poll_interval) {
    // Refresh: everything after what the cache holds (or after this cursor if it holds nothing).
    const int64_t from = cache->valid ? cache->head : cursor;
    const int limit = kBatch * 10;
    int64_t clock = 0;
    std::vector<std::pair<int64_t, std::string>> fresh;
    PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
      // The clock first: every change up to it is visible to the read that follows.
      PC_ASSIGN_OR_RETURN(clock, tx.Head(options_.cloud));
      PC_ASSIGN_OR_RETURN(fresh, tx.ChangesAfter(options_.cloud, feed, owner, from, limit));
      return absl::OkStatus();
    }));
    if (!cache->valid) {
      cache->recent.clear();
      cache->complete_after = from;
    }
    const bool full = fresh.size() == static_cast<size_t>(limit);
    // Complete up to the clock, or only up to the last change read if the read was full. A
    // change newer than the clock that the read saw committed after it; sequences become
    // visible in order, so nothing below it is missing either.
    int64_t complete_to = full ? fresh.back().first : std::max(clock, from);
    if (!fresh.empty()) complete_to = std::max(complete_to, fresh.back().first);
    for (auto& c : fresh) cache->recent.push_back(std::move(c));
    while (cache->recent.size() > kCacheSize) {
      cache->complete_after = cache->recent.front().first;
      cache->recent.pop_front();
    }
    cache->head = complete_to;
    cache->valid = true;
    // Everything signalled up to `generation` is in; a watcher holding an older generation
    // is served from here too.
    cache->generation = std::max(cache->generation, generation);
    // A full read may have left more behind: read again on the next look.
    cache->read_at = full ? absl::InfinitePast() : now;
  }
  if (cursor < cache->complete_after) {
    // Too far behind for the cache: read the store for this watcher alone. A watcher that had
    // caught up reads one more than its buffer, to tell whether it fell too far behind.
    const int limit = caught_up ? std::max<int64_t>(kBatch, options_.watch_buffer + 1) : kBatch;
    PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
      PC_ASSIGN_OR_RETURN(*head, tx.Head(options_.cloud));
      PC_ASSIGN_OR_RETURN(*batch, tx.ChangesAfter(options_.cloud, feed, owner, cursor, limit));
      return absl::OkStatus();
    }));
    *pending = static_cast<int64_t>(batch->size());
    if (batch->size() > static_cast<size_t>(kBatch)) {
      batch->resize(kBatch);
      *head = batch->back().first;
    }
    return absl::OkStatus();
  }
  *head = cache->head;
  *pending = 0;
  batch->clear();
  for (const auto& c : cache->recent) {
    if (c.first <= cursor) continue;
    ++*pending;
    if (batch->size() < static_cast<size_t>(kBatch)) batch->push_back(c);
  }
  return absl::OkStatus();
}

template <typename Change>
absl::Status NotificationDomain::Tail(Feed feed, const std::string& owner, absl::Time until,
                                      int64_t cursor,
                                      const std::function<bool(const Change&)>& send,
                                      const std::function<bool()>& cancelled) {
  bool caught_up = false;
  while (true) {
    // The generation before the checks: a cancellation or shutdown that notifies after this
    // read ends the wait below at once; one before it is seen by the checks. (Read after the
    // checks, a cancel in between would sleep through a whole poll interval.)
    const uint64_t generation = signal_.generation();
    if (signal_.shutting_down()) {
      return absl::UnavailableError(
          absl::StrCat("the server is shutting down; resume after sequence ", cursor));
    }
    if (cancelled()) return absl::CancelledError("the watcher went away");
    const absl::Time now = options_.clock->Now();
    if (now >= until) {
      return pc::WithReason(
          absl::UnauthenticatedError(absl::StrCat(
              "the token expired; resume after sequence ", cursor, " with a fresh token")),
          pc::reason::kInvalidToken, {{"resume_after_sequence", absl::StrCat(cursor)}});
    }
    std::vector<std::pair<int64_t, std::string>> batch;
    int64_t head = 0;
    int64_t pending = 0;
    PC_RETURN_IF_ERROR(
        ReadFeed(feed, owner, cursor, generation, caught_up, &head, &batch, &pending));
    // A watcher that had caught up and then fell this far behind is too slow to follow live:
    // end it (it resumes from its last sequence) rather than let it hold history forever.
    if (caught_up && pending > options_.watch_buffer) {
      return pc::WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "the watcher fell more than ", options_.watch_buffer,
              " changes behind; resume after sequence ", cursor)),
          "WATCHER_TOO_SLOW", {{"resume_after_sequence", absl::StrCat(cursor)}});
    }
    for (const auto& [sequence, bytes] : batch) {
      Change change;
      if (!change.ParseFromString(bytes)) return absl::DataLossError("corrupt change row");
      if (!send(change)) return absl::CancelledError("the watcher went away");
      cursor = sequence;
    }
    // Caught up once it has delivered everything that existed when it last looked.
    if (static_cast<int64_t>(batch.size()) == pending) {
      caught_up = true;
      cursor = std::max(cursor, head);
    }
    if (batch.empty()) signal_.WaitAfter(generation, std::min(options_.poll_interval, until - now));
  }
}

template <typename Change>
absl::Status NotificationDomain::Watch(Feed feed, const std::string& owner, absl::Time until,
                                       std::optional<int64_t> resume,
                                       const SnapshotChunk<Change>& snapshot,
                                       const std::function<bool(const Change&)>& send,
                                       const std::function<bool()>& cancelled,
                                       const std::function<void()>& opened) {
  int64_t cursor = 0;
  bool send_snapshot = true;
  PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
    PC_ASSIGN_OR_RETURN(int64_t head, tx.Head(options_.cloud));
    cursor = head;
    if (!resume.has_value()) return absl::OkStatus();
    if (*resume < 0) return InvalidFieldError("resume_after_sequence", "must not be negative");
    if (*resume > head) {
      return InvalidFieldError("resume_after_sequence",
                               absl::StrCat("is ahead of this feed (head ", head, ")"));
    }
    PC_ASSIGN_OR_RETURN(int64_t pruned, tx.PrunedThrough(options_.cloud));
    if (*resume == head || *resume >= pruned) {
      cursor = *resume;
      send_snapshot = false;
      return absl::OkStatus();
    }
    // Changes after the resume point were deleted by retention: a clean reset (the snapshot,
    // as for a new watcher) rather than a silent gap.
    spdlog::info("watch of {} {}: resume point {} is older than the retained changes "
                 "(pruned through {}); sending a snapshot",
                 feed == Feed::kPartner ? "partner" : "customer", owner, *resume, pruned);
    return absl::OkStatus();
  }));
  if (opened) opened();
  if (send_snapshot) {
    // Every current row, read in chunks (each its own read transaction, so a large page
    // neither holds a transaction open nor sits in memory). Rows that change while it is read
    // may be sent with their newer state; the tail from `cursor` sends those changes again,
    // so the watcher ends at the same rows either way.
    SnapshotCursor position;
    bool more = true;
    while (more) {
      if (cancelled()) return absl::CancelledError("the watcher went away");
      std::vector<Change> chunk;
      PC_RETURN_IF_ERROR(store_.InReadTransaction([&](StoreTx& tx) -> absl::Status {
        PC_ASSIGN_OR_RETURN(more, snapshot(tx, &position, &chunk));
        return absl::OkStatus();
      }));
      for (Change& c : chunk) {
        c.set_sequence(cursor);
        c.set_kind(v1::CHANGE_KIND_SNAPSHOT);
        if (!send(c)) return absl::CancelledError("the watcher went away");
      }
    }
    Change end;
    end.set_sequence(cursor);
    end.set_kind(v1::CHANGE_KIND_SNAPSHOT_END);
    if (!send(end)) return absl::CancelledError("the watcher went away");
  }
  return Tail<Change>(feed, owner, until, cursor, send, cancelled);
}

absl::Status NotificationDomain::WatchCustomers(
    const CallContext& call, const v1::WatchCustomersRequest& req,
    const std::function<bool(const v1::CustomerChange&)>& send,
    const std::function<bool()>& cancelled, const std::function<void()>& opened) {
  PC_ASSIGN_OR_RETURN(std::string partner, PartnerOf(call, req.partner_id()));
  return Watch<v1::CustomerChange>(
      Feed::kPartner, partner, call.authority_until,
      req.has_resume_after_sequence() ? std::optional<int64_t>(req.resume_after_sequence())
                                      : std::nullopt,
      [&](StoreTx& tx, SnapshotCursor* position,
          std::vector<v1::CustomerChange>* out) -> absl::StatusOr<bool> {
        if (!position->rows_done) {
          PC_ASSIGN_OR_RETURN(std::vector<v1::CustomerRow> rows,
                              tx.CustomerRows(SnapshotQuery(partner, *position)));
          position->rows_done = static_cast<int>(rows.size()) < options_.snapshot_chunk;
          if (!rows.empty()) {
            position->after_key = KeyOf(false, rows.back().company_name(), {});
            position->after_id = rows.back().customer_id();
          }
          for (auto& row : rows) *out->emplace_back().mutable_customer() = std::move(row);
          return true;
        }
        // Then the partner's newest invitations, as on the first page.
        PC_ASSIGN_OR_RETURN(std::vector<v1::InvitationRow> invitations,
                            tx.InvitationRows(options_.cloud, partner, kMaxPageSize));
        for (auto& inv : invitations) *out->emplace_back().mutable_invitation() = std::move(inv);
        return false;
      },
      send, cancelled, opened);
}

PageQuery NotificationDomain::SnapshotQuery(const std::string& owner,
                                           const SnapshotCursor& position) const {
  PageQuery q{.cloud = options_.cloud, .owner_id = owner, .limit = options_.snapshot_chunk};
  if (position.after_key.has_value()) {
    q.after_key = position.after_key;
    q.after_id = position.after_id;
  }
  return q;
}

absl::Status NotificationDomain::WatchPartners(const CallContext& call,
                                               const v1::WatchPartnersRequest& req,
                                               const std::function<bool(const v1::PartnerChange&)>& send,
                                               const std::function<bool()>& cancelled,
                                               const std::function<void()>& opened) {
  PC_ASSIGN_OR_RETURN(std::string customer, CustomerOf(call, req.customer_id()));
  return Watch<v1::PartnerChange>(
      Feed::kCustomer, customer, call.authority_until,
      req.has_resume_after_sequence() ? std::optional<int64_t>(req.resume_after_sequence())
                                      : std::nullopt,
      [&](StoreTx& tx, SnapshotCursor* position,
          std::vector<v1::PartnerChange>* out) -> absl::StatusOr<bool> {
        PC_ASSIGN_OR_RETURN(std::vector<v1::PartnerRow> rows,
                            tx.PartnerRows(SnapshotQuery(customer, *position)));
        if (!rows.empty()) {
          position->after_key = KeyOf(false, rows.back().partner_display_name(), {});
          position->after_id = rows.back().partner_id();
        }
        const bool more = static_cast<int>(rows.size()) == options_.snapshot_chunk;
        for (auto& row : rows) *out->emplace_back().mutable_partner() = std::move(row);
        return more;
      },
      send, cancelled, opened);
}

}  // namespace pc::notification
