// Release builds: failpoints do nothing. Weak, so that the `-failpoints` binaries' strong
// definition (failpoint.cc, an object library linked before this archive) takes its place.
#include "pc/common/failpoint.h"

namespace pc::failpoint {

__attribute__((weak)) void Hit(const char*) {}

}  // namespace pc::failpoint
