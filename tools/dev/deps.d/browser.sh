# Sourced by tools/dev/deps.sh (cwd = repo root, $SUDO set): the browser tier (tests/browser,
# ctest -L browser) — Debian's chromium (no browser download) and the pinned playwright-core
# from tests/browser/package-lock.json. Fast when already present: dpkg-query + a
# node_modules version check, no network.
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  echo "deps: installing chromium"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || { echo "deps: could not install chromium (needed by the browser tier)" >&2; exit 1; }
fi
command -v npm >/dev/null 2>&1 || {
  echo "deps: installing npm"
  $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null \
    || { echo "deps: could not install npm (needed by the browser tier)" >&2; exit 1; }
}
pc_browser_want=$(node -e 'console.log(require("./tests/browser/package-lock.json").packages["node_modules/playwright-core"].version)')
pc_browser_have=$(node -e 'try{console.log(require("./tests/browser/node_modules/playwright-core/package.json").version)}catch(e){console.log("")}')
if [ "$pc_browser_want" != "$pc_browser_have" ]; then
  echo "deps: npm ci playwright-core@$pc_browser_want"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund >/dev/null) \
    || { echo "deps: npm ci in tests/browser failed" >&2; exit 1; }
fi
unset pc_browser_want pc_browser_have
