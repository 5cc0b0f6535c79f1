# Writes OUT: a .cc defining pc::portal::kAppJs and kAppCss from the files JS and CSS, so
# the binary serves its static files without a file system (read-only root FS in k8s).
file(READ "${JS}" js)
file(READ "${CSS}" css)
file(WRITE "${OUT}" "// Generated from services/portal/static by embed_assets.cmake. Do not edit.\n"
  "namespace pc::portal {\n"
  "extern const char kAppJs[] = R\"PCASSET(${js})PCASSET\";\n"
  "extern const char kAppCss[] = R\"PCASSET(${css})PCASSET\";\n"
  "}  // namespace pc::portal\n")
