#!/usr/bin/env bash
# Prepares a node for kubeadm: kernel modules, sysctls, swap, containerd and its
# config, the devmapper pool, Kubernetes binaries, CNI plugins, the kubelet unit.
# Idempotent: every phase checks what is there before it changes anything.
# Parameters: /etc/nestlab/node.env (rendered by nestlab).
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init node-prep

nl_phase kernel-modules
for module in ${NESTLAB_MODULES:-overlay br_netfilter}; do
  if ! modprobe "$module" 2>"$NESTLAB_LOG_DIR/modprobe.err"; then
    nl_fail "cannot load kernel module $module: $(nl_last_line "$NESTLAB_LOG_DIR/modprobe.err")"
  fi
done
nl_ok "${NESTLAB_MODULES:-overlay br_netfilter}"

nl_phase preflight
if [[ ${NESTLAB_NEEDS_KVM:-0} == 1 && ! -c /dev/kvm ]]; then
  nl_fail "/dev/kvm is missing, but ${NESTLAB_KVM_USERS:-a runtime} needs it. ${NESTLAB_KVM_HINT:-}"
fi
if [[ ${NESTLAB_NEEDS_VHOST:-0} == 1 ]]; then
  for device in /dev/vhost-vsock /dev/vhost-net; do
    if [[ ! -c $device ]]; then
      nl_fail "$device is missing after loading vhost_vsock and vhost_net; Kata needs both"
    fi
  done
fi
nl_ok

nl_phase sysctl
if ! sysctl -q -p /etc/sysctl.d/99-nestlab.conf >"$NESTLAB_LOG_DIR/sysctl.log" 2>&1; then
  nl_fail "sysctl failed: $(nl_last_line "$NESTLAB_LOG_DIR/sysctl.log")"
fi
nl_ok

nl_phase swap
if [[ -n $(swapon --show=NAME --noheadings 2>/dev/null) ]]; then
  swapoff -a
fi
if grep -Eq '^[^#[:space:]][^#]*[[:space:]]swap[[:space:]]' /etc/fstab 2>/dev/null; then
  sed -i -E 's|^([^#[:space:]][^#]*[[:space:]]swap[[:space:]].*)$|# nestlab: \1|' /etc/fstab
fi
nl_ok

nl_phase base-packages
wanted=()
for tool in curl:curl tar:tar conntrack:conntrack socat:socat ethtool:ethtool iptables:iptables; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    wanted+=("${tool#*:}")
  fi
done
if ((${#wanted[@]} > 0)); then
  nl_apt_install "${wanted[@]}"
fi
nl_ok

nl_phase containerd-install
case ${NESTLAB_CONTAINERD_SOURCE:-distro} in
  distro)
    nl_apt_install containerd runc
    ;;
  release)
    nl_install_artifacts containerd
    systemctl daemon-reload
    ;;
  *)
    nl_fail "unknown containerd source '${NESTLAB_CONTAINERD_SOURCE}'"
    ;;
esac
if [[ ${NESTLAB_CRUN:-0} == 1 ]]; then
  nl_apt_install crun
fi
nl_ok "$(containerd --version 2>/dev/null || printf 'containerd')"

if [[ ${NESTLAB_DEVMAPPER:-0} == 1 ]]; then
  nl_phase devmapper-pool
  for tool in dmsetup:dmsetup losetup:mount blockdev:util-linux; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
      nl_apt_install "${tool#*:}"
    fi
  done
  "$here/devmapper-pool.sh" create
  systemctl daemon-reload
  systemctl enable nestlab-devmapper.service >/dev/null 2>&1
  nl_ok "${NESTLAB_DM_POOL:-}"
fi

nl_phase containerd-config
staged="$NESTLAB_ETC/containerd/config.toml"
live=/etc/containerd/config.toml
mkdir -p /etc/containerd
if [[ -f $live && ! -f $NESTLAB_STATE/containerd-config.orig ]] && ! cmp -s "$staged" "$live"; then
  cp -p "$live" "$NESTLAB_STATE/containerd-config.orig"
fi
restart=0
if ! cmp -s "$staged" "$live"; then
  install -m 0644 "$staged" "$live"
  restart=1
fi
systemctl enable containerd >/dev/null 2>&1
if ((restart)) || ! systemctl is-active --quiet containerd; then
  systemctl restart containerd
fi
ctr_ok() { ctr --address /run/containerd/containerd.sock plugins ls >"$NESTLAB_STATE/containerd-plugins" 2>/dev/null; }
if ! nl_retry 8 8 ctr_ok; then
  nl_fail "containerd does not answer after restart: $(journalctl -u containerd -n 1 --no-pager -o cat 2>/dev/null || true)"
fi
if ! grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok' "$NESTLAB_STATE/containerd-plugins"; then
  nl_fail "containerd's CRI plugin did not load with nestlab's config (see journalctl -u containerd)"
fi
if [[ ${NESTLAB_DEVMAPPER:-0} == 1 ]] && ! grep -Eq '^io\.containerd\.snapshotter\.v1[[:space:]]+devmapper[[:space:]].*[[:space:]]ok' "$NESTLAB_STATE/containerd-plugins"; then
  nl_fail "containerd's devmapper snapshotter did not load (pool ${NESTLAB_DM_POOL:-?})"
fi
nl_ok

# The handlers nestlab configured must run a container before Kubernetes relies on them.
nl_phase containerd-handlers
if [[ -x /bin/busybox ]]; then
  handlers=(runc=runc)
  if [[ ${NESTLAB_CRUN:-0} == 1 ]]; then
    handlers+=(crun=/usr/bin/crun)
  fi
  nl_containerd_smoke "${handlers[@]}"
  nl_ok "${handlers[*]%%=*}"
else
  nl_ok "skipped: no /bin/busybox to build a local test image from"
fi

nl_phase kubernetes-binaries "${NESTLAB_K8S_VERSION:-}"
nl_install_artifacts kubernetes
nl_ok "$(kubeadm version -o short 2>/dev/null || printf 'installed')"

nl_phase cni-plugins
mkdir -p /opt/cni/bin
if [[ ${NESTLAB_CNI_PLUGINS:-distro} == distro ]]; then
  nl_apt_install containernetworking-plugins
  # containerd looks in /opt/cni/bin, where flannel and calico also drop their plugin.
  for plugin in /usr/lib/cni/*; do
    target="/opt/cni/bin/${plugin##*/}"
    if [[ ! -e $target || -L $target ]]; then
      ln -sfn "$plugin" "$target"
    fi
  done
fi
if [[ ! -e /opt/cni/bin/bridge ]]; then
  nl_fail "no CNI plugins in /opt/cni/bin after install"
fi
nl_ok

nl_phase kubelet-service
systemctl daemon-reload
systemctl enable kubelet >/dev/null 2>&1
nl_ok

touch "$NESTLAB_STATE/node-prep.done"
nl_emit node-prep ok
