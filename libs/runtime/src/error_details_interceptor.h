// A gRPC server interceptor that makes every error answer machine-readable:
//   - a request the server could not deserialize (bad protobuf wire format, or a `string` field
//     that is not UTF-8) is answered INVALID_ARGUMENT instead of gRPC's INTERNAL with an empty
//     message: reason INVALID_FIELD with a BadRequest naming the field when libprotobuf named it
//     (invalid UTF-8), else reason MALFORMED_REQUEST;
//   - an error sent without details (gRPC's own UNIMPLEMENTED, RESOURCE_EXHAUSTED for an
//     oversized message, …) gets a google.rpc.ErrorInfo whose reason is the code's name.
// Registered before the metrics interceptor, so pc_grpc_requests_total counts the final code.
#pragma once

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace pc::runtime {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeErrorDetailsInterceptorFactory();

}  // namespace pc::runtime
