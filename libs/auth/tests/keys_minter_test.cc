#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pc/auth/keys.h"
#include "pc/auth/minter.h"
#include "pc/auth/verifier.h"
#include "pc/common/ids.h"
#include "test_tokens.h"

namespace pc::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace ::pc::auth::testing;  // NOLINT

// A public key PEM of a type the project does not accept (P-384, RSA-1024).
std::string UnsupportedPublicKey(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("pc_auth_" + pc::NewUuid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& name, const std::string& content) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / name) << content;
  }

  std::filesystem::path dir_;
};

TEST(GenerateKeyPairTest, ProducesPemPairsOfTheRequestedType) {
  for (Algorithm alg : {Algorithm::kES256, Algorithm::kRS256}) {
    absl::StatusOr<KeyPairPem> pair = GenerateKeyPair(alg);
    ASSERT_TRUE(pair.ok()) << pair.status();
    EXPECT_THAT(pair->private_key_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
    EXPECT_THAT(pair->public_key_pem, StartsWith("-----BEGIN PUBLIC KEY-----"));
    KeySet keys;
    ASSERT_TRUE(keys.Add("k", pair->public_key_pem).ok());
    EXPECT_EQ(keys.Find("k")->alg, alg);
    absl::StatusOr<Minter> minter =
        Minter::Create({pair->private_key_pem, "k", kIssuer, kAudience});
    ASSERT_TRUE(minter.ok()) << minter.status();
    EXPECT_EQ(minter->algorithm(), alg);
  }
}

TEST(KeySetTest, RejectsBadKeysAndIds) {
  struct Case {
    std::string name;
    std::string kid;
    std::string pem;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"Garbage", "k", "not a key", absl::StatusCode::kInvalidArgument},
      {"PrivateKeyAsPublic", "k", Keys().es.private_key_pem, absl::StatusCode::kInvalidArgument},
      {"P384", "k", UnsupportedPublicKey(EVP_EC_gen("P-384")), absl::StatusCode::kInvalidArgument},
      {"Rsa1024", "k", UnsupportedPublicKey(EVP_RSA_gen(1024)), absl::StatusCode::kInvalidArgument},
      {"EmptyKid", "", Keys().es.public_key_pem, absl::StatusCode::kInvalidArgument},
      {"PathKid", "../k", Keys().es.public_key_pem, absl::StatusCode::kInvalidArgument},
      {"HiddenKid", ".k", Keys().es.public_key_pem, absl::StatusCode::kInvalidArgument},
      {"SpaceKid", "a b", Keys().es.public_key_pem, absl::StatusCode::kInvalidArgument},
      {"DuplicateKid", kEsKid, Keys().es.public_key_pem, absl::StatusCode::kAlreadyExists},
  };
  for (const Case& c : cases) {
    KeySet keys = TrustedKeys();
    EXPECT_EQ(keys.Add(c.kid, c.pem).code(), c.code) << c.name;
    EXPECT_EQ(keys.size(), 2u) << c.name;
  }
}

TEST(KeySetTest, FindsKeysById) {
  KeySet keys = TrustedKeys();
  ASSERT_NE(keys.Find(kEsKid), nullptr);
  EXPECT_EQ(keys.Find(kEsKid)->alg, Algorithm::kES256);
  EXPECT_EQ(keys.Find(kRsKid)->alg, Algorithm::kRS256);
  EXPECT_EQ(keys.Find("nope"), nullptr);
}

TEST_F(TempDirTest, AddFileOfMissingFileIsNotFound) {
  KeySet keys;
  EXPECT_EQ(keys.AddFile("k", (dir_ / "missing.pub.pem").string()).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TempDirTest, LoadDirectoryReadsPublicKeysOnly) {
  WriteFile("es-1.pub.pem", Keys().es.public_key_pem);
  WriteFile("rs-1.pub.pem", Keys().rs.public_key_pem);
  WriteFile("es-1.key.pem", Keys().es.private_key_pem);
  WriteFile("README", "not a key");
  absl::StatusOr<KeySet> keys = KeySet::LoadDirectory(dir_.string());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->Find("es-1")->alg, Algorithm::kES256);
  EXPECT_EQ(keys->Find("rs-1")->alg, Algorithm::kRS256);
}

TEST_F(TempDirTest, LoadDirectoryFailsOnABadPublicKeyNamingIt) {
  WriteFile("broken.pub.pem", "garbage");
  absl::StatusOr<KeySet> keys = KeySet::LoadDirectory(dir_.string());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(keys.status().message()), HasSubstr("broken"));
}

TEST_F(TempDirTest, LoadDirectoryOfMissingDirectoryIsNotFound) {
  EXPECT_EQ(KeySet::LoadDirectory((dir_ / "nope").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TempDirTest, DevKeyPairMintsTokensTheVerifierAccepts) {
  absl::StatusOr<DevKeyPaths> paths = GenerateDevKeyPair((dir_ / "jwt").string(), "dev-1");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->private_key_path, (dir_ / "jwt" / "dev-1.key.pem").string());
  EXPECT_EQ(paths->public_key_path, (dir_ / "jwt" / "dev-1.pub.pem").string());
  struct stat st;
  ASSERT_EQ(::stat(paths->private_key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  absl::StatusOr<Minter> minter =
      Minter::FromDirectory((dir_ / "jwt").string(), "dev-1", kIssuer, kAudience);
  ASSERT_TRUE(minter.ok()) << minter.status();
  EXPECT_EQ(minter->algorithm(), Algorithm::kES256);
  absl::StatusOr<KeySet> keys = KeySet::LoadDirectory((dir_ / "jwt").string());
  ASSERT_TRUE(keys.ok()) << keys.status();
  absl::StatusOr<Verifier> verifier =
      Verifier::Create({kIssuer, kAudience, kCloudUsGov}, *std::move(keys));
  ASSERT_TRUE(verifier.ok()) << verifier.status();

  Claims in{.subject = "carol", .tenant_id = "customer-7", .cloud = kCloudUsGov,
            .roles = {kRoleCustomerAdmin}, .display_name = "Carol"};
  in.verified_domains = {"contoso.com", "Fabrikam.example"};
  absl::StatusOr<std::string> token = minter->Mint(in, absl::Minutes(10), kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Claims> out = verifier->Verify(*token, kNow);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->subject, "carol");
  EXPECT_EQ(out->tenant_id, "customer-7");
  EXPECT_EQ(out->cloud, kCloudUsGov);
  EXPECT_THAT(out->roles, ::testing::ElementsAre(kRoleCustomerAdmin));
  EXPECT_EQ(out->display_name, "Carol");
  EXPECT_THAT(out->verified_domains, ::testing::ElementsAre("contoso.com", "Fabrikam.example"));
  EXPECT_EQ(out->issued_at, kNow);
  EXPECT_EQ(out->expires_at, kNow + absl::Minutes(10));
  EXPECT_TRUE(pc::IsUuid(out->token_id)) << out->token_id;
}

TEST_F(TempDirTest, DevKeyPairRefusesToOverwrite) {
  ASSERT_TRUE(GenerateDevKeyPair(dir_.string(), "dev-1").ok());
  std::ifstream in(dir_ / "dev-1.key.pem");
  std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(GenerateDevKeyPair(dir_.string(), "dev-1").status().code(),
            absl::StatusCode::kAlreadyExists);
  std::ifstream again(dir_ / "dev-1.key.pem");
  std::string after((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(before, after);
  EXPECT_EQ(GenerateDevKeyPair(dir_.string(), "../evil").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TempDirTest, MinterFromMissingDirectoryIsNotFound) {
  EXPECT_EQ(Minter::FromDirectory(dir_.string(), "dev-1", kIssuer, kAudience).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MinterTest, RejectsBadOptions) {
  struct Case {
    std::string name;
    Minter::Options options;
  };
  std::vector<Case> cases = {
      {"PublicKey", {Keys().es.public_key_pem, "k", kIssuer, kAudience}},
      {"Garbage", {"garbage", "k", kIssuer, kAudience}},
      {"BadKid", {Keys().es.private_key_pem, "a/b", kIssuer, kAudience}},
      {"NoIssuer", {Keys().es.private_key_pem, "k", "", kAudience}},
      {"NoAudience", {Keys().es.private_key_pem, "k", kIssuer, ""}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Minter::Create(c.options).status().code(), absl::StatusCode::kInvalidArgument)
        << c.name;
  }
}

Minter EsMinter() {
  return *Minter::Create({Keys().es.private_key_pem, kEsKid, kIssuer, kAudience});
}

Claims GoodClaims() {
  return {.subject = "alice", .tenant_id = "partner-1", .cloud = kCloudGlobal,
          .roles = {kRolePartnerAdmin}};
}

TEST(MinterTest, RejectsIncompleteClaimsAndBadTtl) {
  struct Case {
    std::string name;
    Claims claims;
    absl::Duration ttl;
  };
  Claims no_subject = GoodClaims(), no_tenant = GoodClaims(), bad_cloud = GoodClaims(),
         no_roles = GoodClaims();
  no_subject.subject.clear();
  no_tenant.tenant_id.clear();
  bad_cloud.cloud = "mars";
  no_roles.roles.clear();
  std::vector<Case> cases = {
      {"NoSubject", no_subject, absl::Hours(1)}, {"NoTenant", no_tenant, absl::Hours(1)},
      {"BadCloud", bad_cloud, absl::Hours(1)},   {"NoRoles", no_roles, absl::Hours(1)},
      {"ZeroTtl", GoodClaims(), absl::ZeroDuration()},
      {"NegativeTtl", GoodClaims(), -absl::Seconds(1)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EsMinter().Mint(c.claims, c.ttl, kNow).status().code(),
              absl::StatusCode::kInvalidArgument)
        << c.name;
  }
}

TEST(MinterTest, KeepsGivenTokenIdAndOtherwiseMakesFreshOnes) {
  Verifier verifier = MakeVerifier();
  Claims with_id = GoodClaims();
  with_id.token_id = "fixed-id";
  EXPECT_EQ(verifier.Verify(*EsMinter().Mint(with_id, absl::Hours(1), kNow), kNow)->token_id,
            "fixed-id");
  auto token_id = [&] {
    return verifier.Verify(*EsMinter().Mint(GoodClaims(), absl::Hours(1), kNow), kNow)->token_id;
  };
  EXPECT_NE(token_id(), token_id());
}

TEST(MinterTest, Rs256RoundTripAndTtlIsTheExactLifetime) {
  absl::StatusOr<Minter> minter =
      Minter::Create({Keys().rs.private_key_pem, kRsKid, kIssuer, kAudience});
  ASSERT_TRUE(minter.ok()) << minter.status();
  std::string token = *minter->Mint(GoodClaims(), absl::Minutes(10), kNow);
  Verifier verifier = MakeVerifier(absl::ZeroDuration());
  FakeClock clock(kNow + absl::Minutes(10) - absl::Seconds(1));
  EXPECT_TRUE(verifier.Verify(token, clock.Now()).ok());
  clock.Set(kNow + absl::Minutes(10));
  EXPECT_EQ(verifier.Verify(token, clock.Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(MinterTest, TokensOfAnotherIssuerOrAudienceAreRejected) {
  Minter other_iss = *Minter::Create({Keys().es.private_key_pem, kEsKid, "https://x", kAudience});
  Minter other_aud = *Minter::Create({Keys().es.private_key_pem, kEsKid, kIssuer, "x"});
  Verifier verifier = MakeVerifier();
  EXPECT_EQ(verifier.Verify(*other_iss.Mint(GoodClaims(), absl::Hours(1), kNow), kNow)
                .status().message(),
            "wrong issuer");
  EXPECT_EQ(verifier.Verify(*other_aud.Mint(GoodClaims(), absl::Hours(1), kNow), kNow)
                .status().message(),
            "wrong audience");
}

}  // namespace
}  // namespace pc::auth
