#!/usr/bin/env bash
# The devmapper thin pool that containerd's devmapper snapshotter uses (urunc,
# kata-fc), on loop-backed sparse files. `create` makes or re-attaches it (run at
# every boot by nestlab-devmapper.service, before containerd); `remove` tears it
# down. Table layout as containerd's docs/snapshotters/devmapper.md.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init devmapper-pool

pool=${NESTLAB_DM_POOL:?}
dir=${NESTLAB_DM_DIR:?}
data="$dir/data"
meta="$dir/meta"

loop_of() {
  losetup -j "$1" | cut -d: -f1 | head -n 1
}

attach() {
  local device
  device=$(loop_of "$1")
  if [[ -z $device ]]; then
    device=$(losetup --find --show "$1")
  fi
  printf '%s' "$device"
}

case ${1:-create} in
  create)
    if dmsetup status "$pool" >/dev/null 2>&1; then
      exit 0
    fi
    mkdir -p "$dir"
    # Fresh files are all zeros, which is what a new pool's metadata must be.
    if [[ ! -f $data ]]; then
      truncate -s "${NESTLAB_DM_DATA_SIZE:-20G}" "$data"
    fi
    if [[ ! -f $meta ]]; then
      truncate -s "${NESTLAB_DM_META_SIZE:-1G}" "$meta"
    fi
    data_dev=$(attach "$data")
    meta_dev=$(attach "$meta")
    sectors=$(($(blockdev --getsize64 "$data_dev") / 512))
    # 128 sectors = 64 KiB blocks; low-water mark 32768 blocks; skip zeroing for speed.
    if ! dmsetup create "$pool" --table "0 $sectors thin-pool $meta_dev $data_dev 128 32768 1 skip_block_zeroing" \
      2>"$NESTLAB_LOG_DIR/dmsetup.err"; then
      nl_fail "dmsetup create $pool failed: $(nl_last_line "$NESTLAB_LOG_DIR/dmsetup.err")"
    fi
    ;;
  remove)
    if dmsetup status "$pool" >/dev/null 2>&1; then
      dmsetup remove "$pool"
    fi
    for file in "$data" "$meta"; do
      device=$(loop_of "$file")
      if [[ -n $device ]]; then
        losetup -d "$device"
      fi
    done
    rm -rf "$dir"
    ;;
  *)
    nl_fail "usage: devmapper-pool.sh create|remove"
    ;;
esac
