#!/usr/bin/env bash
# Kata Containers from the static release tarball (into /opt/kata), with nestlab's
# knobs applied to a copy of each hypervisor's configuration-<hyp>.toml under
# /etc/kata-containers/nestlab (containerd's ConfigPath points there). Idempotent.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init kata

# Overridable only so the tests can run this script in a scratch directory.
kata_root=${NESTLAB_KATA_ROOT:-/opt/kata}
shipped="$kata_root/share/defaults/kata-containers"
tuned=${NESTLAB_KATA_TUNED:-/etc/kata-containers/nestlab}

nl_phase kata-install "${NESTLAB_KATA_VERSION:-}"
if [[ ${NESTLAB_KATA_ZSTD:-0} == 1 ]] && ! command -v zstd >/dev/null 2>&1; then
  nl_apt_install zstd
fi
if ! command -v xz >/dev/null 2>&1; then
  nl_apt_install xz-utils
fi
nl_install_artifacts kata
if [[ ! -x $kata_root/bin/containerd-shim-kata-v2 ]]; then
  nl_fail "the kata tarball did not provide $kata_root/bin/containerd-shim-kata-v2"
fi
nl_ok

nl_phase kata-config
mkdir -p "$tuned"
for hypervisor in ${NESTLAB_KATA_HYPERVISORS:?}; do
  source_config="$shipped/configuration-$hypervisor.toml"
  if [[ ! -f $source_config ]]; then
    nl_fail "kata ${NESTLAB_KATA_VERSION:-} ships no $source_config"
  fi
  work="$tuned/configuration-$hypervisor.toml.tmp"
  cp "$source_config" "$work"
  while IFS= read -r line; do
    if [[ -z $line || $line == \#* ]]; then
      continue
    fi
    key=${line%%=*}
    key=${key%"${key##*[![:space:]]}"}
    if ! nl_toml_set "$work" "$key" "$line"; then
      rm -f "$work"
      nl_fail "$source_config has no '$key' to set"
    fi
  done <"$NESTLAB_ETC/kata/$hypervisor.knobs"
  mv -f "$work" "$tuned/configuration-$hypervisor.toml"
done
nl_ok "${NESTLAB_KATA_HYPERVISORS}"
nl_emit kata ok
