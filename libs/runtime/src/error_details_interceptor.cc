#include "error_details_interceptor.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "pc/common/errors.h"
#include "pc/common/grpc_status.h"
#include "protobuf_log.h"

namespace pc::runtime {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

// "/pkg.Service/Method" → the request message's descriptor, or nullptr.
const google::protobuf::Descriptor* RequestTypeOf(const char* method) {
  std::string path = method ? method : "";
  const size_t slash = path.find('/', 1);
  if (path.empty() || slash == std::string::npos) return nullptr;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* service = pool->FindServiceByName(path.substr(1, slash - 1));
  const auto* rpc = service ? service->FindMethodByName(path.substr(slash + 1)) : nullptr;
  return rpc ? rpc->input_type() : nullptr;
}

// The answer to a request that did not parse.
absl::Status MalformedRequest(const google::protobuf::Descriptor* type,
                              const std::string& utf8_field) {
  if (!utf8_field.empty()) {
    const auto* field =
        google::protobuf::DescriptorPool::generated_pool()->FindFieldByName(utf8_field);
    std::string name = utf8_field;
    if (field != nullptr) name = field->containing_type() == type ? field->name() : field->full_name();
    return InvalidFieldError(name, "must be valid UTF-8");
  }
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "the request is not a valid ", type ? type->full_name() : std::string("protobuf"),
          " message (malformed protobuf encoding)")),
      reason::kMalformedRequest);
}

class ErrorDetailsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ErrorDetailsInterceptor(ServerRpcInfo* info)
      : method_(info->method()),
        single_request_(info->type() == ServerRpcInfo::Type::UNARY ||
                        info->type() == ServerRpcInfo::Type::SERVER_STREAMING) {
    // The sync server creates interceptors, then deserializes the request, on this thread.
    (void)TakeInvalidUtf8Field();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (single_request_ && !received_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      received_ = true;
      if (methods->GetRecvMessage() == nullptr) {
        malformed_ = true;
        utf8_field_ = TakeInvalidUtf8Field();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (malformed_) {
        methods->ModifySendStatus(ToGrpcStatus(MalformedRequest(RequestTypeOf(method_), utf8_field_)));
      } else if (!status.ok() && status.error_details().empty()) {
        methods->ModifySendStatus(ToGrpcStatus(FromGrpcStatus(status)));
      }
    }
    methods->Proceed();
  }

 private:
  const char* method_;
  const bool single_request_;
  bool received_ = false;
  bool malformed_ = false;
  std::string utf8_field_;
};

class ErrorDetailsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new ErrorDetailsInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeErrorDetailsInterceptorFactory() {
  return std::make_unique<ErrorDetailsInterceptorFactory>();
}

}  // namespace pc::runtime
