// pc-event-catalog: writes the event catalog (docs/asyncapi.json, AsyncAPI 3.0) for every
// topic of every cloud from two sources that cannot disagree silently: the event protos'
// descriptors (a FileDescriptorSet with source info, so proto comments become descriptions)
// and the topic table (protos/partnercenter/events/v1/topics.json). Exits 1, naming the
// culprit, for an envelope payload that is on no topic or on two, a listed payload the
// envelope lacks, or a topic schema_version that disagrees with the proto package (v1 → 1).
// With --table_out it also writes the topic table docs/topics.md shows (splice-table.sh).
//
//   pc-event-catalog --descriptor_set=build/gen/event_catalog.desc
//       --topics=protos/partnercenter/events/v1/topics.json --out=docs/asyncapi.json
//
// Payload schemas follow protobuf's JSON mapping (lowerCamelCase names, enums by name, 64-bit
// integers as strings, Timestamps as RFC 3339): what `pcctl events tail --json` prints.
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, descriptor_set, "", "FileDescriptorSet of events.proto and its imports");
ABSL_FLAG(std::string, topics, "", "The topic table (topics.json)");
ABSL_FLAG(std::string, out, "-", "Where to write the AsyncAPI document (- = stdout)");
ABSL_FLAG(std::string, table_out, "", "Where to write the topic table of docs/topics.md (markdown)");

namespace {

namespace gp = google::protobuf;
using Json = nlohmann::ordered_json;

constexpr char kKafkaBinding[] = "0.5.0";
constexpr char kEventsProto[] = "protos/partnercenter/events/v1/events.proto";

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "pc-event-catalog: " << message << "\n";
  std::exit(1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The leading comment of a proto element, on one line.
template <typename D>
std::string Comment(const D* d) {
  gp::SourceLocation location;
  if (!d->GetSourceLocation(&location)) return "";
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(location.leading_comments, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) lines.emplace_back(line);
  }
  return absl::StrJoin(lines, " ");
}

Json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

// The JSON Schemas of the messages and enums reachable from the payloads.
class Schemas {
 public:
  Json& json() { return schemas_; }

  // A schema for `message` (a $ref, or inline for well-known types).
  Json ForMessage(const gp::Descriptor* message) {
    if (message->full_name() == "google.protobuf.Timestamp") {
      return {{"type", "string"}, {"format", "date-time"}};
    }
    if (added_.insert(message->full_name()).second) {
      Json properties = Json::object();
      for (int i = 0; i < message->field_count(); ++i) {
        const gp::FieldDescriptor* field = message->field(i);
        properties[field->json_name()] = ForField(field);
      }
      Add(message, "object", "properties", std::move(properties));
    }
    return Ref(message->full_name());
  }

 private:
  // The component schema of a message or enum: its type, name, comment and proto name, then
  // `key` (properties or enum values).
  template <typename D>
  void Add(const D* d, const char* type, const char* key, Json value) {
    Json schema = {{"type", type}, {"title", d->name()}};
    if (std::string c = Comment(d); !c.empty()) schema["description"] = c;
    schema["x-protobuf-type"] = d->full_name();
    schema[key] = std::move(value);
    schemas_[d->full_name()] = std::move(schema);
  }

  Json ForEnum(const gp::EnumDescriptor* e) {
    if (added_.insert(e->full_name()).second) {
      Json values = Json::array();
      for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
      Add(e, "string", "enum", std::move(values));
    }
    return Ref(e->full_name());
  }

  Json ForValue(const gp::FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case gp::FieldDescriptor::CPPTYPE_STRING:
        return field->type() == gp::FieldDescriptor::TYPE_BYTES
                   ? Json{{"type", "string"}, {"contentEncoding", "base64"}}
                   : Json{{"type", "string"}};
      case gp::FieldDescriptor::CPPTYPE_INT32:
      case gp::FieldDescriptor::CPPTYPE_UINT32:
        return {{"type", "integer"}};
      case gp::FieldDescriptor::CPPTYPE_INT64:
      case gp::FieldDescriptor::CPPTYPE_UINT64:
        return {{"type", "string"}, {"pattern", "^-?[0-9]+$"}, {"format", "int64"}};
      case gp::FieldDescriptor::CPPTYPE_DOUBLE:
      case gp::FieldDescriptor::CPPTYPE_FLOAT:
        return {{"type", "number"}};
      case gp::FieldDescriptor::CPPTYPE_BOOL:
        return {{"type", "boolean"}};
      case gp::FieldDescriptor::CPPTYPE_ENUM:
        return ForEnum(field->enum_type());
      case gp::FieldDescriptor::CPPTYPE_MESSAGE:
        return ForMessage(field->message_type());
    }
    Die("unknown type of " + field->full_name());
  }

  Json ForField(const gp::FieldDescriptor* field) {
    Json schema;
    if (field->is_map()) {
      schema = {{"type", "object"},
                {"additionalProperties", ForValue(field->message_type()->map_value())}};
    } else if (field->is_repeated()) {
      schema = {{"type", "array"}, {"items", ForValue(field)}};
    } else {
      schema = ForValue(field);
    }
    std::string description = Comment(field);
    if (field->real_containing_oneof() != nullptr) {
      description = absl::StrCat(description, description.empty() ? "" : " ", "(oneof ",
                                 field->real_containing_oneof()->name(), ")");
    }
    if (!description.empty()) {
      // Siblings of $ref are ignored by JSON Schema; wrap it so the description stays.
      if (schema.contains("$ref")) schema = {{"allOf", Json::array({schema})}};
      schema["description"] = description;
    }
    schema["x-protobuf-field"] = absl::StrCat(field->name(), " = ", field->number());
    return schema;
  }

  Json schemas_ = Json::object();
  std::set<std::string> added_;
};

Json HeadersSchema(const Json& headers, const std::string& event_type, bool required) {
  Json properties = Json::object();
  Json names = Json::array();
  for (const Json& h : headers) {
    Json schema = {{"type", "string"}, {"description", h["description"]}};
    if (h.contains("const")) schema["const"] = h["const"];
    if (h["name"] == "event-type" && !event_type.empty()) schema["const"] = event_type;
    properties[h["name"].get<std::string>()] = std::move(schema);
    names.push_back(h["name"]);
  }
  Json out = {{"type", "object"}, {"properties", std::move(properties)}};
  if (required) out["required"] = std::move(names);
  return out;
}

std::string Address(const std::string& cloud, const Json& topic) {
  return absl::StrCat("partnercenter.", cloud, ".", topic["name"].get<std::string>(), ".v",
                      topic["schema_version"].get<int>());
}

void WriteFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) Die("cannot write " + path);
}

// The topic table docs/topics.md shows, from the same source as the catalog.
std::string MarkdownTable(const Json& table) {
  std::string md =
      "| Topic | Key | Payload types (envelope `oneof payload`) | Schema version | Producer | "
      "Consumers |\n|---|---|---|---|---|---|\n";
  for (const Json& topic : table["topics"]) {
    std::vector<std::string> payloads;
    for (const std::string p : topic["payloads"]) payloads.push_back("`" + p + "`");
    std::vector<std::string> consumers;
    for (const Json& c : topic["consumers"]) {
      const std::string group = c["group"];
      consumers.push_back(absl::StrCat(c["service"].get<std::string>(), " (",
                                       group.empty() ? "no group" : "group `" + group + "`",
                                       ": ", c["why"].get<std::string>(), ")"));
    }
    absl::StrAppend(&md, "| `", Address("<cloud>", topic), "` | ", topic["key"].get<std::string>(),
                    " | ",
                    payloads.empty() ? "the original bytes, unchanged" : absl::StrJoin(payloads, ", "),
                    " | ", topic["schema_version"].get<int>(), " | ",
                    topic["producer"]["service"].get<std::string>(), " (",
                    topic["producer"]["how"].get<std::string>(), ") | ",
                    absl::StrJoin(consumers, ", "), " |\n");
  }
  return md;
}


}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  gp::FileDescriptorSet set;
  if (!set.ParseFromString(ReadFile(absl::GetFlag(FLAGS_descriptor_set)))) {
    Die("cannot parse the descriptor set " + absl::GetFlag(FLAGS_descriptor_set));
  }
  gp::DescriptorPool pool;
  for (const auto& file : set.file()) {
    if (pool.BuildFile(file) == nullptr) Die("cannot load " + file.name());
  }
  const Json table = Json::parse(ReadFile(absl::GetFlag(FLAGS_topics)), nullptr, false);
  if (table.is_discarded()) Die(absl::GetFlag(FLAGS_topics) + " is not valid JSON");

  const gp::Descriptor* envelope = pool.FindMessageTypeByName(table["envelope"]);
  if (envelope == nullptr) Die("no message " + table["envelope"].dump());
  const gp::OneofDescriptor* payload = envelope->FindOneofByName("payload");
  if (payload == nullptr) Die(envelope->full_name() + " has no oneof payload");
  // The package's major version: partnercenter.events.v1 → 1.
  const std::string package = envelope->file()->package();
  const int package_version = std::stoi(package.substr(package.rfind(".v") + 2));

  // Payload message name → the envelope's oneof field; each on exactly one topic.
  std::map<std::string, const gp::FieldDescriptor*> fields;
  for (int i = 0; i < payload->field_count(); ++i) {
    const gp::FieldDescriptor* field = payload->field(i);
    if (field->message_type() == nullptr) Die(field->full_name() + " is not a message");
    auto [it, added] = fields.emplace(field->message_type()->name(), field);
    if (!added) {
      Die(absl::StrCat(envelope->full_name(), ".", it->second->name(), " and ", field->name(),
                       " both carry ", it->first, ": one payload message per event type"));
    }
  }
  std::map<std::string, std::string> topic_of;
  for (const Json& topic : table["topics"]) {
    const std::string name = topic["name"];
    if (topic["schema_version"].get<int>() != package_version) {
      Die(absl::StrCat("topic ", name, " has schema_version ", topic["schema_version"].dump(),
                       " but its payloads are in package ", package));
    }
    for (const std::string p : topic["payloads"]) {
      if (!fields.contains(p)) Die("topic " + name + " lists " + p + ", which is not in " +
                                   envelope->full_name() + ".payload");
      if (topic_of.contains(p)) Die(p + " is on two topics: " + topic_of[p] + " and " + name);
      topic_of[p] = name;
    }
  }
  for (const auto& [p, field] : fields) {
    if (!topic_of.contains(p)) {
      Die(absl::StrCat(envelope->full_name(), ".", field->name(), " (", p,
                       ") is on no topic: add it to a topic's payloads in ",
                       absl::GetFlag(FLAGS_topics)));
    }
  }

  Schemas schemas;
  const Json envelope_ref = schemas.ForMessage(envelope);
  Json messages = Json::object();
  for (const Json& topic : table["topics"]) {
    const Json headers = topic.contains("extra_headers")
                             ? [&] {
                                 Json all = table["headers"];
                                 for (const Json& h : topic["extra_headers"]) all.push_back(h);
                                 return all;
                               }()
                             : table["headers"];
    const Json key_binding = {
        {"kafka",
         {{"key", {{"type", "string"}, {"description", topic["key"]}}},
          {"bindingVersion", kKafkaBinding}}}};
    if (topic["payloads"].empty()) {  // the dead letter: the original bytes, unchanged
      messages["DeadLetter"] = {
          {"name", "DeadLetter"},
          {"title", "A message a consumer could not decode or apply"},
          {"summary", "The original value and key, unchanged; the dlq-* headers say why and "
                      "where it came from."},
          {"contentType", "application/octet-stream"},
          {"headers", HeadersSchema(headers, "", false)},
          {"payload",
           {{"type", "string"},
            {"format", "binary"},
            {"description", "Usually a serialized " + envelope->full_name() + "."}}},
          {"bindings", key_binding},
          {"x-schema-version", topic["schema_version"]}};
      continue;
    }
    for (const std::string p : topic["payloads"]) {
      const gp::FieldDescriptor* field = fields[p];
      Json message = {{"name", p}, {"title", p}};
      if (std::string c = Comment(field->message_type()); !c.empty()) message["summary"] = c;
      message["contentType"] = "application/x-protobuf";
      message["headers"] = HeadersSchema(headers, p, true);
      message["payload"] = {
          {"allOf",
           Json::array({envelope_ref,
            {{"type", "object"},
             {"required", Json::array({"eventId", "type", "schemaVersion", field->json_name()})},
             {"properties",
              {{"type", {{"const", p}}},
               {"schemaVersion", {{"const", topic["schema_version"]}}},
               {field->json_name(), schemas.ForMessage(field->message_type())}}}}})}};
      message["bindings"] = key_binding;
      // The repository's own path (externalDocs would need an absolute URL).
      message["x-proto-file"] = kEventsProto;
      message["x-protobuf-message"] = envelope->full_name();
      message["x-protobuf-payload-field"] =
          absl::StrCat(field->name(), " = ", field->number(), " (",
                       field->message_type()->full_name(), ")");
      message["x-schema-version"] = topic["schema_version"];
      messages[p] = std::move(message);
    }
  }

  Json channels = Json::object();
  Json operations = Json::object();
  for (const std::string cloud : table["clouds"]) {
    for (const Json& topic : table["topics"]) {
      const std::string address = Address(cloud, topic);
      const std::string id = absl::StrCat(cloud, ".", topic["name"].get<std::string>(), ".v",
                                          topic["schema_version"].get<int>());
      Json channel_messages = Json::object();
      Json operation_messages = Json::array();
      const std::vector<std::string> names =
          topic["payloads"].empty() ? std::vector<std::string>{"DeadLetter"}
                                    : topic["payloads"].get<std::vector<std::string>>();
      for (const std::string& n : names) {
        channel_messages[n] = {{"$ref", "#/components/messages/" + n}};
        operation_messages.push_back({{"$ref", absl::StrCat("#/channels/", id, "/messages/", n)}});
      }
      Json consumers = Json::array();
      for (const Json& c : topic["consumers"]) consumers.push_back(c["service"]);
      channels[id] = {
          {"address", address},
          {"title", absl::StrCat(topic["name"].get<std::string>(), " (", cloud, ")")},
          {"description",
           absl::StrCat("Key: ", topic["key"].get<std::string>(),
                        " Producer: ", topic["producer"]["service"].get<std::string>(), " (",
                        topic["producer"]["how"].get<std::string>(), "). Consumers: ",
                        absl::StrJoin(consumers.get<std::vector<std::string>>(), ", "),
                        ". Schema version ", topic["schema_version"].get<int>(), ".")},
          {"messages", std::move(channel_messages)},
          {"bindings",
           {{"kafka",
             {{"topic", address},
              {"partitions", table["settings"]["partitions"]},
              {"replicas", table["settings"]["replicas"]},
              {"bindingVersion", kKafkaBinding}}}}},
          {"x-key", topic["key"]},
          {"x-schema-version", topic["schema_version"]},
          {"x-producer", topic["producer"]},
          {"x-consumers", topic["consumers"]}};
      const Json channel_ref = {{"$ref", "#/channels/" + id}};
      operations[id + ".send"] = {
          {"action", "send"},
          {"channel", channel_ref},
          {"title", absl::StrCat(topic["producer"]["service"].get<std::string>(), " publishes")},
          {"description", topic["producer"]["how"]},
          {"messages", operation_messages}};
      for (const Json& c : topic["consumers"]) {
        Json op = {{"action", "receive"},
                   {"channel", channel_ref},
                   {"title", absl::StrCat(c["service"].get<std::string>(), " consumes")},
                   {"description", c["why"]},
                   {"messages", operation_messages}};
        if (!c["group"].get<std::string>().empty()) {
          const Json group = {{"type", "string"}, {"enum", Json::array({c["group"]})}};
          op["bindings"] = {
              {"kafka", {{"groupId", group}, {"bindingVersion", kKafkaBinding}}}};
        }
        operations[absl::StrCat(id, ".receive.", c["service"].get<std::string>())] = std::move(op);
      }
    }
  }

  Json doc = {
      {"asyncapi", "3.0.0"},
      {"info",
       {{"title", "Partner Center reseller relationships: events"},
        {"version", absl::StrCat(package_version, ".0.0")},
        {"description",
         absl::StrCat(
             "Every topic of every cloud, what it carries and who writes and reads it. "
             "GENERATED by tools/eventcatalog from ", kEventsProto, " and "
             "protos/partnercenter/events/v1/topics.json: do not edit (docs/topics.md says how "
             "to regenerate). Values are serialized ", envelope->full_name(),
             " messages; the payload schemas here are their protobuf JSON mapping, as "
             "`pcctl events tail --json` prints them.")}}},
      {"defaultContentType", "application/x-protobuf"},
      {"channels", std::move(channels)},
      {"operations", std::move(operations)},
      {"components", {{"messages", std::move(messages)}, {"schemas", schemas.json()}}}};

  WriteFile(absl::GetFlag(FLAGS_out), doc.dump(2) + "\n");
  if (!absl::GetFlag(FLAGS_table_out).empty()) {
    WriteFile(absl::GetFlag(FLAGS_table_out), MarkdownTable(table));
  }
  return 0;
}
