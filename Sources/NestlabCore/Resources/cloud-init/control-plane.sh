#!/usr/bin/env bash
# Control-plane bootstrap: the pre-made CA in place, `kubeadm init` with nestlab's
# config (skipped when the cluster already answers), the CNI, the RuntimeClasses.
# Run after node-prep.sh (and the runtime scripts). Idempotent.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init control-plane

pki=/etc/kubernetes/pki
log="$NESTLAB_LOG_DIR/kubeadm-init.log"

install_ca() {
  install -d -m 0755 "$pki"
  install -m 0644 "$NESTLAB_ETC/pki/ca.crt" "$pki/ca.crt"
  install -m 0600 "$NESTLAB_ETC/pki/ca.key" "$pki/ca.key"
}

api_ready() {
  nl_kubectl get --raw=/readyz >/dev/null 2>&1
}

nl_phase pki
if [[ -f /etc/kubernetes/admin.conf && -f $pki/ca.crt ]] && ! cmp -s "$NESTLAB_ETC/pki/ca.crt" "$pki/ca.crt"; then
  nl_fail "this node already runs a cluster with another CA ($pki/ca.crt); run node-reset.sh first"
fi
install_ca
nl_ok

nl_phase kubeadm-init "${NESTLAB_K8S_VERSION:-}"
if [[ -f /etc/kubernetes/admin.conf ]]; then
  # Initialized before (re-run or reboot): the API server may still be starting.
  if ! nl_retry 12 10 api_ready; then
    nl_fail "the cluster was initialized but its API server does not answer; run node-reset.sh and up again"
  fi
  nl_ok "already initialized"
else
  if [[ -n $(ls -A /etc/kubernetes/manifests 2>/dev/null) ]]; then
    # A failed earlier init left static pods behind; kubeadm refuses to run over them.
    kubeadm reset -f >>"$log" 2>&1 || true
    install_ca
  fi
  if ! kubeadm init --config "$NESTLAB_ETC/kubeadm/init.yaml" >>"$log" 2>&1; then
    nl_fail "kubeadm init failed: $(nl_last_line "$log")"
  fi
  nl_ok
fi

nl_phase kubeconfig
install -D -m 0600 /etc/kubernetes/admin.conf /root/.kube/config
nl_ok

nl_phase cni "${NESTLAB_CNI:-flannel}"
nl_install_artifacts cni
manifest="$NESTLAB_STATE/cni.yaml"
if [[ ${NESTLAB_CNI:-flannel} == flannel && ${NESTLAB_POD_SUBNET:-10.244.0.0/16} != 10.244.0.0/16 ]]; then
  # flannel's manifest hard-codes its Network; make it the cluster's pod subnet.
  patched="$NESTLAB_STATE/cni-patched.yaml"
  if ! nl_flannel_network "$manifest" "$patched" "$NESTLAB_POD_SUBNET"; then
    nl_fail "flannel manifest has no \"Network\": \"10.244.0.0/16\" to set to $NESTLAB_POD_SUBNET"
  fi
  manifest=$patched
fi
if ! nl_retry 6 20 nl_kubectl apply -f "$manifest" >>"$NESTLAB_LOG_DIR/kubectl.log" 2>&1; then
  nl_fail "kubectl apply of the ${NESTLAB_CNI:-flannel} manifest failed: $(nl_last_line "$NESTLAB_LOG_DIR/kubectl.log")"
fi
nl_ok

if [[ -s $NESTLAB_ETC/manifests/runtimeclasses.yaml ]]; then
  nl_phase runtime-classes
  if ! nl_retry 6 20 nl_kubectl apply -f "$NESTLAB_ETC/manifests/runtimeclasses.yaml" >>"$NESTLAB_LOG_DIR/kubectl.log" 2>&1; then
    nl_fail "kubectl apply of the RuntimeClasses failed: $(nl_last_line "$NESTLAB_LOG_DIR/kubectl.log")"
  fi
  nl_ok
fi

touch "$NESTLAB_STATE/control-plane.done"
nl_emit control-plane ok
