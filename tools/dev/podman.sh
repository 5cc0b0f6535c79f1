# Sourced: pc_podman runs podman the way that works on these machines (as root, no daemon):
# vfs storage (no overlay module needed), runc (crun fails on this cgroup layout), cgroupfs.
pc_podman() {
  podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"
}
