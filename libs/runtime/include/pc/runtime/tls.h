// gRPC transport security for services, from the --grpc_tls_* flags (pc/tls/tls.h): the
// server's credentials (ServerOptions::FromFlags uses them) and the credentials of every
// channel a service opens to another.
//
//   auto channel = grpc::CreateChannel(address, pc::runtime::ChannelCredentialsFromFlags());
//
// Init() has already validated the flags (a bad file ends the process with exit code 2), so
// these only abort if the files vanished in between.
#pragma once

#include <memory>

#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace pc::runtime {

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFromFlags();
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFromFlags();

}  // namespace pc::runtime
