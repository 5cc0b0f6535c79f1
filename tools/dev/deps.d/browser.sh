# Sourced by tools/dev/deps.sh (cwd = repo root, $SUDO set): the browser tier (tests/browser,
# ctest -L browser) — Debian's chromium (no browser download) and the pinned playwright-core
# from tests/browser/package-lock.json (pc_npm_ci, deps.sh). Fast when already present:
# dpkg-query + a node_modules version check, no network.
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  echo "deps: installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || { echo "deps: could not install chromium (needed by the browser tier)" >&2; exit 1; }
fi
pc_npm_ci tests/browser playwright-core
