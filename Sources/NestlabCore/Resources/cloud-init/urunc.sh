#!/usr/bin/env bash
# urunc: release binaries urunc and containerd-shim-urunc-v2, and the monitors
# (qemu from the distribution, firecracker and solo5 from releases). The
# devmapper pool and containerd's handler come from node-prep.sh. Idempotent.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init urunc

nl_phase urunc-install "${NESTLAB_URUNC_VERSION:-}"
nl_install_artifacts urunc
if [[ ${NESTLAB_URUNC_QEMU:-0} == 1 ]]; then
  nl_apt_install qemu-system-x86
fi
for binary in urunc containerd-shim-urunc-v2; do
  if ! command -v "$binary" >/dev/null 2>&1; then
    nl_fail "$binary is not on PATH after install"
  fi
done
nl_ok "${NESTLAB_URUNC_MONITORS:-}"
nl_emit urunc ok
