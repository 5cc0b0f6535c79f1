// `pcctl kafka acls add`: reads ACLs from stdin, one line each in kafka-acls' (AclCommand's)
// syntax, and adds them all in one CreateAcls request as the principal of the --kafka_*
// flags. deploy/local/kafka/kafka.sh uses it to write its ACLs in a second instead of one
// JVM per line. Each line is the product of its principals × operations × resources:
//
//   --allow-principal User:relationship --operation Read --operation Describe --topic T1 --topic T2
//   --allow-principal User:notification --operation Read --resource-pattern-type prefixed --group notification
//   --allow-principal User:invitation --operation IdempotentWrite --cluster
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pc/kafka/admin.h"
#include "pc/kafka/security_flags.h"
#include "pcctl.h"

ABSL_DECLARE_FLAG(std::string, kafka_brokers);

namespace pcctl {
namespace {

absl::StatusOr<std::vector<pc::kafka::AclBinding>> ParseLine(const std::string& line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  std::vector<std::string> principals, operations;
  std::vector<std::pair<std::string, std::string>> resources;  // type, name
  bool prefixed = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--cluster") {
      resources.emplace_back("cluster", "kafka-cluster");
      continue;
    }
    if (i + 1 >= words.size()) return absl::InvalidArgumentError(absl::StrCat(w, " needs a value"));
    const std::string& value = words[++i];
    if (w == "--allow-principal") {
      principals.push_back(value);
    } else if (w == "--operation") {
      operations.push_back(value);
    } else if (w == "--topic" || w == "--group") {
      resources.emplace_back(w.substr(2), value);
    } else if (w == "--resource-pattern-type" && (value == "literal" || value == "prefixed")) {
      prefixed = value == "prefixed";
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unsupported: ", w, " ", value));
    }
  }
  if (principals.empty() || operations.empty() || resources.empty()) {
    return absl::InvalidArgumentError("needs --allow-principal, --operation and a resource");
  }
  std::vector<pc::kafka::AclBinding> out;
  for (const auto& p : principals) {
    for (const auto& op : operations) {
      for (const auto& [type, name] : resources) {
        out.push_back({.resource_type = type,
                       .resource_name = name,
                       .prefixed = prefixed,
                       .principal = p,
                       .operation = op});
      }
    }
  }
  return out;
}

}  // namespace

int RunKafkaCommand(const std::vector<std::string>& args) {
  if (args[0] != "kafka") return -1;
  if (args.size() != 3 || args[1] != "acls" || args[2] != "add") {
    return Fail("usage: pcctl kafka acls add < lines in kafka-acls syntax");
  }
  absl::StatusOr<pc::kafka::Security> security = pc::kafka::SecurityFromFlags();
  if (!security.ok()) return Fail(std::string(security.status().message()));
  std::vector<pc::kafka::AclBinding> acls;
  std::string line;
  for (int n = 1; std::getline(std::cin, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<std::vector<pc::kafka::AclBinding>> parsed = ParseLine(line);
    if (!parsed.ok()) return Fail(absl::StrCat("line ", n, ": ", parsed.status().message()));
    acls.insert(acls.end(), parsed->begin(), parsed->end());
  }
  if (absl::Status s = pc::kafka::CreateAcls(absl::GetFlag(FLAGS_kafka_brokers), *security, acls);
      !s.ok()) {
    return Fail(s.ToString());
  }
  std::cout << "added " << acls.size() << " ACLs\n";
  return 0;
}

}  // namespace pcctl
