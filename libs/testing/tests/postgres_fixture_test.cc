// Proves the PostgreSQL fixture: a temporary database can be created, used and dropped.
#include <libpq-fe.h>

#include "gtest/gtest.h"
#include "pc/testing/infra.h"

namespace pc::testing {
namespace {

TEST(TempPostgresDatabase, CreatesAUsableDatabaseAndDropsIt) {
  std::string name;
  {
    auto db = TempPostgresDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    name = (*db)->name();
    PGconn* conn = PQconnectdb((*db)->url().c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* res = PQexec(conn, "SELECT current_database(), current_setting('server_version_num')");
    ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
    EXPECT_EQ(std::string(PQgetvalue(res, 0, 0)), name);
    EXPECT_GE(std::stoi(PQgetvalue(res, 0, 1)), 150000);  // PostgreSQL 15
    PQclear(res);
    PQfinish(conn);
  }
  PGconn* admin = PQconnectdb(RequiredEnv("PC_TEST_DATABASE_URL").c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  const char* params[] = {name.c_str()};
  PGresult* res = PQexecParams(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", 1,
                               nullptr, params, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK);
  EXPECT_EQ(std::string(PQgetvalue(res, 0, 0)), "0");
  PQclear(res);
  PQfinish(admin);
}

}  // namespace
}  // namespace pc::testing
