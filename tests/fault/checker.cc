#include "checker.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pc/auth/grpc_auth.h"
#include "pc/common/ids.h"
#include "pc/common/status_macros.h"
#include "pc/events/envelope.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/consumer.h"
#include "pc/kafka/tailer.h"

namespace pc::fault {
namespace {

namespace common = partnercenter::common::v1;
namespace ev = partnercenter::events::v1;
namespace inv = partnercenter::invitation::v1;
namespace notif = partnercenter::notification::v1;
namespace rel = partnercenter::relationship::v1;

struct Record {
  int32_t partition = 0;
  int64_t offset = 0;
  pc::kafka::Headers headers;
  absl::StatusOr<ev::EventEnvelope> envelope = absl::UnknownError("unread");
};

// Every record of `topic` from the first offset to the end offsets read when called, as a
// consumer in a fresh group of the super user.
absl::StatusOr<std::vector<Record>> ReadTopic(const std::string& brokers,
                                              const pc::kafka::Security& security,
                                              const std::string& topic) {
  PC_ASSIGN_OR_RETURN(std::vector<int64_t> ends, pc::kafka::EndOffsets(brokers, security, topic));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Record> records;
  std::vector<int64_t> next(ends.size(), 0);
  auto at_end = [&] {
    for (size_t p = 0; p < ends.size(); ++p) {
      if (next[p] < ends[p]) return false;
    }
    return true;
  };
  if (at_end()) return records;
  PC_ASSIGN_OR_RETURN(
      std::unique_ptr<pc::kafka::KafkaConsumer> consumer,
      pc::kafka::KafkaConsumer::Create(
          {.brokers = brokers,
           .security = security,
           .group_id = "fault-checker-" + pc::NewUuid().substr(0, 8),
           .topics = {topic},
           .auto_offset_reset = "earliest"},
          [&](const pc::kafka::ConsumedMessage& m) {
            std::lock_guard lock(mu);
            records.push_back({.partition = m.partition, .offset = m.offset, .headers = m.headers,
                               .envelope = pc::events::Decode(m.payload)});
            if (static_cast<size_t>(m.partition) < next.size()) {
              next[m.partition] = std::max(next[m.partition], m.offset + 1);
            }
            cv.notify_all();
            return absl::OkStatus();
          },
          nullptr));
  PC_RETURN_IF_ERROR(consumer->Start());
  bool complete;
  {
    std::unique_lock lock(mu);
    complete = cv.wait_for(lock, std::chrono::seconds(90), at_end);
  }
  consumer->Stop(absl::Seconds(10));
  if (!complete) return absl::DeadlineExceededError("reading " + topic + " did not reach its end");
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return records;
}

// The distinct events of one aggregate, in log order.
struct Aggregate {
  std::vector<ev::EventEnvelope> events;
  std::set<int32_t> partitions;
  int Count(const std::string& type) const {
    int n = 0;
    for (const auto& e : events) n += e.type() == type;
    return n;
  }
};

// Groups a topic's records by aggregate (first copy of each event id), counting repeats, and
// checks that versions only grow within each aggregate.
std::map<std::string, Aggregate> ByAggregate(const std::vector<Record>& records, TopicStats& stats,
                                             std::vector<std::string>& problems) {
  std::map<std::string, Aggregate> aggregates;
  std::map<std::string, ev::EventEnvelope> seen;
  for (const Record& r : records) {
    ++stats.records;
    if (!r.envelope.ok()) {
      problems.push_back(absl::StrCat(stats.topic, "[", r.partition, "]@", r.offset,
                                      " does not decode: ", r.envelope.status().ToString()));
      continue;
    }
    const ev::EventEnvelope& e = *r.envelope;
    auto [it, first] = seen.emplace(e.event_id(), e);
    if (!first) {
      ++stats.duplicates;
      if (it->second.aggregate_version() != e.aggregate_version() ||
          it->second.type() != e.type()) {
        problems.push_back(
            absl::StrCat("event id ", e.event_id(), " carries two different events"));
      }
      continue;
    }
    ++stats.events;
    Aggregate& a = aggregates[e.aggregate_id()];
    a.events.push_back(e);
    a.partitions.insert(r.partition);
  }
  for (const auto& [id, a] : aggregates) {
    if (a.partitions.size() > 1) {
      problems.push_back(absl::StrCat(stats.topic, ": aggregate ", id, " spans partitions"));
    }
    for (size_t i = 1; i < a.events.size(); ++i) {
      if (a.events[i].aggregate_version() <= a.events[i - 1].aggregate_version()) {
        problems.push_back(absl::StrCat(stats.topic, ": aggregate ", id, " goes from version ",
                                        a.events[i - 1].aggregate_version(), " (",
                                        a.events[i - 1].type(), ") to ",
                                        a.events[i].aggregate_version(), " (",
                                        a.events[i].type(), ")"));
      }
    }
  }
  return aggregates;
}

bool IsTerminal(const std::string& type) {
  return type == "InvitationAccepted" || type == "InvitationDeclined" ||
         type == "InvitationCanceled" || type == "InvitationExpired";
}

// Sent, then any resends, then at most one terminal state, then nothing.
void CheckInvitationPath(const std::string& id, const Aggregate& a,
                         std::vector<std::string>& problems) {
  std::string path;
  for (const auto& e : a.events) absl::StrAppend(&path, path.empty() ? "" : " → ", e.type());
  bool terminal = false;
  for (size_t i = 0; i < a.events.size(); ++i) {
    const std::string& type = a.events[i].type();
    const bool legal = i == 0 ? type == "InvitationSent"
                              : !terminal && (type == "InvitationResent" || IsTerminal(type));
    if (!legal) {
      problems.push_back(absl::StrCat("invitation ", id, " took an illegal path: ", path));
      return;
    }
    terminal = terminal || IsTerminal(type);
  }
}

// A read call against a caught-up service: no retries beyond waiting for the connection.
template <typename Fn>
absl::Status Read(const Tokens& tokens, const std::string& tenant, const std::string& role,
                  Fn rpc) {
  grpc::ClientContext ctx;
  pc::auth::AttachBearerToken(&ctx, tokens.For(tenant, role));
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status s = rpc(&ctx);
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::string Row(const std::string& what, const std::string& a, const std::string& b,
                const std::string& c, const std::string& d, const std::string& e) {
  return absl::StrFormat("  %-48s %12s %8s %5s %7s %6s\n", what, a, b, c, d, e);
}

}  // namespace

std::string Report::Table() const {
  std::string out = Row("", "acknowledged", "effects", "lost", "doubled", "stray");
  for (const Tally& t : tallies) {
    out += Row(t.what, absl::StrCat(t.acknowledged), absl::StrCat(t.effects),
               absl::StrCat(t.lost), absl::StrCat(t.doubled), absl::StrCat(t.stray));
  }
  for (const TopicStats& t : topics) {
    absl::StrAppendFormat(&out, "  %-48s %d records, %d events, %d duplicates on the wire\n",
                          t.topic, t.records, t.events, t.duplicates);
  }
  absl::StrAppendFormat(&out, "  %-48s %d\n", "dead letters", dead_letters);
  return out;
}

Checker::Checker(const FaultCluster& cluster, const Tokens& tokens,
                 std::vector<std::string> partners)
    : cluster_(cluster), tokens_(tokens), partners_(std::move(partners)) {}

absl::StatusOr<Report> Checker::Check(const std::vector<Pair>& ledger) const {
  Report report;
  std::vector<std::string>& problems = report.problems;
  for (const Pair& p : ledger) {
    if (!p.error.empty()) problems.push_back(absl::StrCat("pair ", p.index, ": ", p.error));
  }

  // ---- The topics, from the beginning.
  const std::string brokers = cluster_.brokers();
  const pc::kafka::Security admin = cluster_.KafkaAdmin();
  PC_ASSIGN_OR_RETURN(std::vector<Record> inv_records,
                      ReadTopic(brokers, admin, pc::kafka::InvitationTopic(kCloud)));
  PC_ASSIGN_OR_RETURN(std::vector<Record> rel_records,
                      ReadTopic(brokers, admin, pc::kafka::RelationshipTopic(kCloud)));
  PC_ASSIGN_OR_RETURN(std::vector<Record> dead, ReadTopic(brokers, admin,
                                                          pc::kafka::DeadLetterTopic(kCloud)));
  report.topics = {{.topic = pc::kafka::InvitationTopic(kCloud)},
                   {.topic = pc::kafka::RelationshipTopic(kCloud)}};
  const std::map<std::string, Aggregate> invitations =
      ByAggregate(inv_records, report.topics[0], problems);
  const std::map<std::string, Aggregate> relationships =
      ByAggregate(rel_records, report.topics[1], problems);
  report.dead_letters = static_cast<int>(dead.size());
  for (const Record& d : dead) {
    problems.push_back(absl::StrCat(
        "dead letter from ", pc::kafka::HeaderValue(d.headers, pc::kafka::kHeaderDlqSourceTopic),
        " (", pc::kafka::HeaderValue(d.headers, pc::kafka::kHeaderDlqConsumerGroup), "): ",
        pc::kafka::HeaderValue(d.headers, pc::kafka::kHeaderDlqError)));
  }
  for (const auto& [id, a] : invitations) CheckInvitationPath(id, a, problems);

  // ---- The services' state, read through their APIs.
  std::map<std::string, std::vector<rel::Relationship>> rows;        // by partner:customer
  std::map<std::string, std::vector<notif::CustomerRow>> page_rows;  // by partner:customer
  std::map<std::string, inv::Invitation> stored_invitations;         // by id
  int stored_invitation_rows = 0;
  auto invitation_stub = inv::InvitationService::NewStub(
      FastReconnectChannel(cluster_.grpc_address(Service::kInvitation),
                           cluster_.client_credentials()));
  auto relationship_stub = rel::RelationshipService::NewStub(
      FastReconnectChannel(cluster_.grpc_address(Service::kRelationship),
                           cluster_.client_credentials()));
  auto notification_stub = notif::NotificationService::NewStub(
      FastReconnectChannel(cluster_.grpc_address(Service::kNotification),
                           cluster_.client_credentials()));
  for (const std::string& partner : partners_) {
    std::string token;
    do {
      rel::ListRelationshipsRequest req;
      req.set_partner_id(partner);
      req.set_page_size(200);
      req.set_page_token(token);
      rel::ListRelationshipsResponse resp;
      PC_RETURN_IF_ERROR(Read(tokens_, partner, "partner_admin", [&](grpc::ClientContext* ctx) {
        return relationship_stub->ListRelationships(ctx, req, &resp);
      }));
      for (const auto& r : resp.relationships()) {
        rows[pc::events::RelationshipKey(r.partner_id(), r.customer_id())].push_back(r);
      }
      token = resp.next_page_token();
    } while (!token.empty());
    do {
      notif::GetCustomersPageRequest req;
      req.set_partner_id(partner);
      req.set_page_size(200);
      req.set_page_token(token);
      notif::CustomersPage resp;
      PC_RETURN_IF_ERROR(Read(tokens_, partner, "partner_admin", [&](grpc::ClientContext* ctx) {
        return notification_stub->GetCustomersPage(ctx, req, &resp);
      }));
      for (const auto& r : resp.customers()) {
        page_rows[pc::events::RelationshipKey(r.partner_id(), r.customer_id())].push_back(r);
      }
      token = resp.next_page_token();
    } while (!token.empty());
    do {
      inv::ListInvitationsRequest req;
      req.set_page_size(200);
      req.set_page_token(token);
      inv::ListInvitationsResponse resp;
      PC_RETURN_IF_ERROR(Read(tokens_, partner, "partner_admin", [&](grpc::ClientContext* ctx) {
        return invitation_stub->ListInvitations(ctx, req, &resp);
      }));
      for (const auto& i : resp.invitations()) {
        stored_invitations[i.id()] = i;
        ++stored_invitation_rows;
      }
      token = resp.next_page_token();
    } while (!token.empty());
  }

  // ---- Acknowledged calls against their effects.
  Tally sent{"creates → InvitationSent events"};
  Tally stored{"creates → invitations (invitation service)"};
  Tally accepted{"accepts → InvitationAccepted events"};
  Tally declined{"declines → InvitationDeclined events"};
  Tally established{"accepts → RelationshipEstablished events"};
  Tally relationship_rows{"accepts → relationships (relationship service)"};
  Tally customer_rows{"accepts → Customers-page rows (notification)"};
  Tally revoked{"revokes → PermissionRevoked events"};
  Tally history{"relationship events → history entries"};
  std::set<std::string> known_invitations, accepted_keys;
  auto events_of = [](const std::map<std::string, Aggregate>& m, const std::string& id) {
    auto it = m.find(id);
    return it == m.end() ? Aggregate{} : it->second;
  };
  for (const Pair& p : ledger) {
    if (p.invitation_id.empty()) continue;
    known_invitations.insert(p.invitation_id);
    const Aggregate invitation = events_of(invitations, p.invitation_id);
    sent.Add(invitation.Count("InvitationSent"));
    stored.Add(stored_invitations.count(p.invitation_id));
    if (!p.answered) continue;
    const common::InvitationState want_state =
        p.decline ? common::INVITATION_STATE_DECLINED : common::INVITATION_STATE_ACCEPTED;
    if (auto it = stored_invitations.find(p.invitation_id);
        it != stored_invitations.end() && (it->second.state() != want_state ||
                                           it->second.version() !=
                                               static_cast<int64_t>(invitation.events.size()))) {
      problems.push_back(absl::StrCat("invitation ", p.invitation_id, " is ",
                                      common::InvitationState_Name(it->second.state()), " v",
                                      it->second.version(), " in the invitation service, ",
                                      invitation.events.size(), " events on the topic"));
    }
    if (p.decline) {
      declined.Add(invitation.Count("InvitationDeclined"));
      accepted.stray += invitation.Count("InvitationAccepted");
      continue;  // its relationship-side strays are counted below, with every other key's
    }
    const std::string key = pc::events::RelationshipKey(p.partner_id, p.customer_id);
    const Aggregate relationship = events_of(relationships, key);
    accepted_keys.insert(key);
    accepted.Add(invitation.Count("InvitationAccepted"));
    declined.stray += invitation.Count("InvitationDeclined");
    established.Add(relationship.Count("RelationshipEstablished"));
    if (p.revoked) {
      revoked.Add(relationship.Count("PermissionRevoked"));
    } else {
      revoked.stray += relationship.Count("PermissionRevoked");
    }
    for (const auto& e : relationship.events) {
      if (e.type() != "RelationshipEstablished" && e.type() != "PermissionRevoked") {
        problems.push_back(absl::StrCat(key, ": unexpected ", e.type(), " v",
                                        e.aggregate_version()));
      }
    }
    // The state the last event left, in both services' views.
    const int64_t version = static_cast<int64_t>(relationship.events.size());
    const common::AdminAccess admin =
        p.revoked ? common::ADMIN_ACCESS_REVOKED : common::ADMIN_ACCESS_GRANTED;
    const std::vector<rel::Relationship> found =
        rows.count(key) ? rows.at(key) : std::vector<rel::Relationship>{};
    relationship_rows.Add(static_cast<int>(found.size()));
    for (const auto& r : found) {
      if (r.state() != common::RELATIONSHIP_STATE_ACTIVE || r.admin_access() != admin ||
          r.version() != version) {
        problems.push_back(absl::StrCat("relationship ", key, " is ",
                                        common::RelationshipState_Name(r.state()), "/",
                                        common::AdminAccess_Name(r.admin_access()), " v",
                                        r.version(), "; the topic says ",
                                        common::AdminAccess_Name(admin), " v", version));
      }
    }
    const std::vector<notif::CustomerRow> page =
        page_rows.count(key) ? page_rows.at(key) : std::vector<notif::CustomerRow>{};
    customer_rows.Add(static_cast<int>(page.size()));
    for (const auto& r : page) {
      if (r.admin_access() != admin || r.version() != version) {
        problems.push_back(absl::StrCat("Customers-page row ", key, " shows ",
                                        common::AdminAccess_Name(r.admin_access()), " v",
                                        r.version(), "; the topic says ",
                                        common::AdminAccess_Name(admin), " v", version));
      }
    }

    // History: one entry per event, same ids, sequences = versions.
    std::vector<rel::HistoryEntry> entries;
    std::string token;
    do {
      rel::ListHistoryRequest req;
      req.set_partner_id(p.partner_id);
      req.set_customer_id(p.customer_id);
      req.set_page_size(200);
      req.set_page_token(token);
      rel::ListHistoryResponse resp;
      PC_RETURN_IF_ERROR(
          Read(tokens_, p.partner_id, "partner_admin", [&](grpc::ClientContext* ctx) {
            return relationship_stub->ListHistory(ctx, req, &resp);
          }));
      entries.insert(entries.end(), resp.entries().begin(), resp.entries().end());
      token = resp.next_page_token();
    } while (!token.empty());
    std::map<std::string, int> entries_by_event;
    for (size_t i = 0; i < entries.size(); ++i) {
      ++entries_by_event[entries[i].event_id()];
      if (i > 0 && entries[i].sequence() <= entries[i - 1].sequence()) {
        problems.push_back(absl::StrCat("history of ", key, " goes from sequence ",
                                        entries[i - 1].sequence(), " to ", entries[i].sequence()));
      }
    }
    std::set<std::string> event_ids;
    for (const auto& e : relationship.events) {
      event_ids.insert(e.event_id());
      history.Add(entries_by_event[e.event_id()]);
    }
    for (const auto& [id, n] : entries_by_event) {
      if (!event_ids.count(id)) history.stray += n;
    }
  }
  for (const auto& [id, a] : invitations) {
    if (!known_invitations.count(id)) {
      sent.stray += a.Count("InvitationSent");
      problems.push_back(absl::StrCat("invitation ", id, " on the topic was never acknowledged"));
    }
  }
  stored.stray += stored_invitation_rows - stored.effects;
  for (const auto& [key, a] : relationships) {
    if (!accepted_keys.count(key)) {
      established.stray += a.Count("RelationshipEstablished");
      revoked.stray += a.Count("PermissionRevoked");
    }
  }
  for (const auto& [key, found] : rows) {
    if (!accepted_keys.count(key)) relationship_rows.stray += static_cast<int>(found.size());
  }
  for (const auto& [key, found] : page_rows) {
    if (!accepted_keys.count(key)) customer_rows.stray += static_cast<int>(found.size());
  }
  report.tallies = {sent,         stored,         accepted,          declined,     established,
                    relationship_rows, customer_rows, revoked, history};
  for (const Tally& t : report.tallies) {
    if (t.lost > 0 || t.doubled > 0 || t.stray > 0) {
      problems.push_back(absl::StrCat(t.what, ": ", t.lost, " lost, ", t.doubled, " doubled, ",
                                      t.stray, " stray"));
    }
  }
  return report;
}

}  // namespace pc::fault
