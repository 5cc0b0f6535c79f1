#!/usr/bin/env bash
# `make images`: one runtime image per service, built with podman from deploy/docker/Containerfile
# on a local Debian 12 base, tagged exactly as deploy/k8s names them, and their sizes printed.
#   tools/dev/images.sh BUILD_DIR [SERVICE...]
# No registry is needed:
#   - the base is Debian's own bookworm (debootstrap --variant=minbase), made once and cached
#     outside the clone as a tarball keyed by suite, then imported as localhost/partnercenter/debian:12;
#   - the runtime layer is the host's build output: the stripped binary plus exactly the shared
#     libraries `ldd` says it needs that the base lacks.
# Containers run with podman's vfs storage and runc (crun fails on this machine's cgroups).
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:?usage: images.sh BUILD_DIR [SERVICE...]}
shift
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(invitation relationship notification portal)
tag=${PC_IMAGE_TAG:-0.1.0}
registry=${PC_IMAGE_REGISTRY:-registry.example.com/partnercenter}
base_image=localhost/partnercenter/debian:12
# shellcheck source=tools/dev/podman.sh
source tools/dev/podman.sh

cache="${XDG_CACHE_HOME:-$HOME/.cache}/partnercenter"
base_tar="$cache/debian-bookworm-minbase.tar"
if ! pc_podman image exists "$base_image"; then
  if [ ! -s "$base_tar" ]; then
    command -v debootstrap >/dev/null || { echo "images: debootstrap is not installed (make deps)" >&2; exit 1; }
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    mirror=${mirror:-$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)}
    [ -n "$mirror" ] || { echo "images: no Debian mirror in this machine's apt sources" >&2; exit 1; }
    echo "images: debootstrap --variant=minbase bookworm from $mirror (once; cached in $base_tar)"
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null \
      || { echo "images: debootstrap failed" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    chmod 755 "$root"  # mktemp made it 0700; it becomes the image's /
    mkdir -p "$cache" && tar -C "$root" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
    rm -rf "$root"
  fi
  pc_podman import --quiet "$base_tar" "$base_image" >/dev/null
fi

# What the base already has, so the runtime layer carries only what the binary adds.
base_libs=$(tar -tf "$base_tar" | sed -n 's#^\./\(.*\.so[.0-9]*\)$#/\1#p' | sort -u)
for s in "${services[@]}"; do
  bin="$build_dir/services/$s/pc-$s"
  [ -x "$bin" ] || { echo "images: $bin is not built" >&2; exit 1; }
  ctx=$(mktemp -d)
  mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/usr/lib/partnercenter"
  strip --strip-debug -o "$ctx/rootfs/usr/local/bin/pc-service" "$bin"
  # Each library under its soname, in the directory it really lives in (Debian 12 merges /lib
  # into /usr/lib: a real /lib in the layer would hide the base's symlink).
  ldd "$bin" | awk '/=> \// { print $3 }' | while read -r lib; do
    path="$(dirname "$(readlink -f "$lib")")/$(basename "$lib")"
    grep -qxF "$path" <<<"$base_libs" && continue
    mkdir -p "$ctx/rootfs$(dirname "$path")"
    cp -L "$lib" "$ctx/rootfs$path"
  done
  image="$registry/$s:$tag"
  pc_podman build --quiet --file deploy/docker/Containerfile --build-arg "BASE=$base_image" \
    --tag "$image" "$ctx" >/dev/null || { echo "images: building $image failed" >&2; rm -rf "$ctx"; exit 1; }
  rm -rf "$ctx"
  size=$(pc_podman image inspect --format '{{.Size}}' "$image")
  added=$(( size - $(pc_podman image inspect --format '{{.Size}}' "$base_image") ))
  printf 'images: %-60s %6.1f MB (base + %.1f MB)\n' "$image" "$(bc -l <<<"$size/1000000")" "$(bc -l <<<"$added/1000000")"
done
# The images these replaced keep only disk space (vfs copies every layer): drop them.
pc_podman image prune --force >/dev/null
