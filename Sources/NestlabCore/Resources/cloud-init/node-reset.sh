#!/usr/bin/env bash
# Undoes a nestlab bootstrap on a bare-metal host (`nestlab down`): kubeadm reset,
# then removes exactly what nestlab installed, as recorded under /var/lib/nestlab
# (downloaded files, packages it added, the devmapper pool, units, configs).
# Keeps going past errors so one stuck piece does not leave the rest behind.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init node-reset
log="$NESTLAB_LOG_DIR/reset.log"

nl_phase kubeadm-reset
if command -v kubeadm >/dev/null 2>&1; then
  kubeadm reset -f >>"$log" 2>&1 || nl_log "kubeadm reset reported an error (see $log); continuing"
fi
systemctl disable --now kubelet >>"$log" 2>&1 || true
rm -f /etc/systemd/system/kubelet.service /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
rmdir /etc/systemd/system/kubelet.service.d 2>/dev/null || true
rm -rf /etc/cni/net.d /var/lib/kubelet /etc/kubernetes /root/.kube/config
nl_ok "kubelet stopped, cluster state removed"

nl_phase containerd-restore
systemctl stop containerd >>"$log" 2>&1 || true
if [[ -f $NESTLAB_STATE/containerd-config.orig ]]; then
  install -m 0644 "$NESTLAB_STATE/containerd-config.orig" /etc/containerd/config.toml
else
  rm -f /etc/containerd/config.toml
fi
if [[ ${NESTLAB_DEVMAPPER:-0} == 1 ]]; then
  "$here/devmapper-pool.sh" remove || nl_log "devmapper pool removal failed; continuing"
  systemctl disable nestlab-devmapper.service >>"$log" 2>&1 || true
  rm -f /etc/systemd/system/nestlab-devmapper.service
fi
nl_ok "containerd config restored"

nl_phase remove-files
if [[ -f $NESTLAB_STATE/installed.list ]]; then
  while IFS= read -r path; do
    if [[ -n $path && $path == /* ]]; then
      rm -f -- "$path"
    fi
  done <"$NESTLAB_STATE/installed.list"
fi
rm -rf /opt/kata /etc/kata-containers/nestlab
rm -f /etc/systemd/system/containerd.service /etc/sysctl.d/99-nestlab.conf /etc/modules-load.d/nestlab.conf /etc/crictl.yaml
if [[ -f /etc/fstab ]] && grep -q '^# nestlab: ' /etc/fstab; then
  sed -i 's|^# nestlab: ||' /etc/fstab
fi
nl_ok "downloaded files removed"

nl_phase remove-packages
if [[ -s $NESTLAB_STATE/apt-installed.list ]]; then
  mapfile -t packages < <(sort -u "$NESTLAB_STATE/apt-installed.list")
  DEBIAN_FRONTEND=noninteractive apt-get -y -q purge "${packages[@]}" >>"$log" 2>&1 ||
    nl_log "apt-get purge ${packages[*]} failed (see $log); continuing"
fi
nl_ok "packages nestlab added purged"

systemctl daemon-reload >>"$log" 2>&1 || true
if systemctl list-unit-files containerd.service >/dev/null 2>&1; then
  systemctl restart containerd >>"$log" 2>&1 || true
fi
rm -rf "$NESTLAB_ETC" "$NESTLAB_STATE" "${NESTLAB_CACHE%/downloads}"
# Remove the scripts only where nestlab installed them, never a checkout they were run from.
if [[ $here == /usr/local/lib/nestlab ]]; then
  rm -rf "$here"
fi
nl_emit node-reset ok
