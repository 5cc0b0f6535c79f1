#include "pc/auth/keys.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "key_util.h"
#include "pc/common/status_macros.h"

namespace pc::auth {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr char kPublicKeySuffix[] = ".pub.pem";
constexpr char kPrivateKeySuffix[] = ".key.pem";

// Never prompt for a passphrase: encrypted keys are simply unreadable.
int NoPassphrase(char*, int, int, void*) { return 0; }

absl::StatusOr<Algorithm> AlgorithmOf(EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(pkey) < 2048) {
        return absl::InvalidArgumentError("RSA keys need at least 2048 bits");
      }
      return Algorithm::kRS256;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &len) == 1 &&
          std::string_view(group, len) == SN_X9_62_prime256v1) {
        return Algorithm::kES256;
      }
      return absl::InvalidArgumentError("EC keys must use curve P-256");
    }
    default:
      return absl::InvalidArgumentError("unsupported key type (want RSA or EC P-256)");
  }
}

absl::StatusOr<Algorithm> ParseKey(std::string_view pem, bool is_private) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return absl::ResourceExhaustedError("out of memory");
  PkeyPtr pkey(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)
                          : PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr),
               EVP_PKEY_free);
  ERR_clear_error();
  if (!pkey) {
    return absl::InvalidArgumentError(is_private
                                          ? "not an unencrypted PEM private key"
                                          : "not a PEM public key (want BEGIN PUBLIC KEY)");
  }
  return AlgorithmOf(pkey.get());
}

absl::Status Annotate(const absl::Status& status, std::string_view kid) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("key ", std::string(kid), ": ", status.message()));
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* pkey, bool is_private) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  int ok = bio && (is_private ? PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0,
                                                        nullptr, nullptr)
                              : PEM_write_bio_PUBKEY(bio.get(), pkey));
  if (!ok) {
    ERR_clear_error();
    return absl::InternalError("cannot encode key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Creates `path` (which must not exist) with `mode` and writes `content`.
absl::Status WriteNewFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  ssize_t written = ::write(fd, content.data(), content.size());
  bool ok = written == static_cast<ssize_t>(content.size());
  ok = (::close(fd) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

namespace internal {

absl::StatusOr<Algorithm> AlgorithmOfPublicKey(std::string_view pem) {
  return ParseKey(pem, /*is_private=*/false);
}

absl::StatusOr<Algorithm> AlgorithmOfPrivateKey(std::string_view pem) {
  return ParseKey(pem, /*is_private=*/true);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace internal

std::string_view AlgorithmName(Algorithm alg) {
  return alg == Algorithm::kES256 ? "ES256" : "RS256";
}

bool IsValidKeyId(std::string_view kid) {
  if (kid.empty() || kid.size() > 64 || kid.front() == '.') return false;
  for (char c : kid) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status KeySet::Add(std::string_view kid, std::string_view public_key_pem) {
  if (!IsValidKeyId(kid)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key id \"", std::string(kid), "\""));
  }
  if (keys_.find(kid) != keys_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("duplicate key id ", std::string(kid)));
  }
  absl::StatusOr<Algorithm> alg = internal::AlgorithmOfPublicKey(public_key_pem);
  if (!alg.ok()) return Annotate(alg.status(), kid);
  keys_.emplace(std::string(kid), Key{*alg, std::string(public_key_pem)});
  return absl::OkStatus();
}

absl::Status KeySet::AddFile(std::string_view kid, const std::string& path) {
  PC_ASSIGN_OR_RETURN(std::string pem, internal::ReadFile(path));
  return Add(kid, pem);
}

absl::StatusOr<KeySet> KeySet::LoadDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list key directory ", dir));
  KeySet keys;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    std::string_view suffix = kPublicKeySuffix;
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    if (!entry.is_regular_file(ec)) continue;
    PC_RETURN_IF_ERROR(
        keys.AddFile(name.substr(0, name.size() - suffix.size()), entry.path().string()));
  }
  return keys;
}

const KeySet::Key* KeySet::Find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

absl::StatusOr<KeyPairPem> GenerateKeyPair(Algorithm alg) {
  PkeyPtr pkey(alg == Algorithm::kES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048),
               EVP_PKEY_free);
  if (!pkey) {
    ERR_clear_error();
    return absl::InternalError("key generation failed");
  }
  KeyPairPem pair;
  PC_ASSIGN_OR_RETURN(pair.private_key_pem, ToPem(pkey.get(), /*is_private=*/true));
  PC_ASSIGN_OR_RETURN(pair.public_key_pem, ToPem(pkey.get(), /*is_private=*/false));
  return pair;
}

absl::StatusOr<DevKeyPaths> GenerateDevKeyPair(const std::string& dir, std::string_view kid) {
  if (!IsValidKeyId(kid)) return absl::InvalidArgumentError("invalid key id");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  std::string base = (std::filesystem::path(dir) / std::string(kid)).string();
  DevKeyPaths paths{base + kPrivateKeySuffix, base + kPublicKeySuffix};
  for (const std::string& path : {paths.private_key_path, paths.public_key_path}) {
    if (std::filesystem::exists(path, ec)) {
      return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    }
  }
  PC_ASSIGN_OR_RETURN(KeyPairPem pair, GenerateKeyPair(Algorithm::kES256));
  PC_RETURN_IF_ERROR(WriteNewFile(paths.private_key_path, pair.private_key_pem, 0600));
  if (absl::Status s = WriteNewFile(paths.public_key_path, pair.public_key_pem, 0644); !s.ok()) {
    std::filesystem::remove(paths.private_key_path, ec);
    return s;
  }
  return paths;
}

}  // namespace pc::auth
