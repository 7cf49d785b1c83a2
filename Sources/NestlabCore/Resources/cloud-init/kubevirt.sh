#!/usr/bin/env bash
# KubeVirt: the release's operator manifest, then nestlab's KubeVirt CR, then a
# bounded wait for the Available condition. Run on the control plane after
# control-plane.sh. Idempotent (kubectl apply).
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init kubevirt

log="$NESTLAB_LOG_DIR/kubectl.log"

nl_phase kubevirt-operator "${NESTLAB_KUBEVIRT_VERSION:-}"
nl_install_artifacts kubevirt
if ! nl_retry 6 20 nl_kubectl apply -f "$NESTLAB_STATE/kubevirt-operator.yaml" >>"$log" 2>&1; then
  nl_fail "kubectl apply of kubevirt-operator.yaml failed: $(nl_last_line "$log")"
fi
if ! nl_kubectl wait crd/kubevirts.kubevirt.io --for condition=Established --timeout=180s >>"$log" 2>&1; then
  nl_fail "the KubeVirt CRD was not established within 180s"
fi
nl_ok

nl_phase kubevirt-cr
if [[ ${NESTLAB_KUBEVIRT_EMULATION:-0} == 1 ]]; then
  nl_log "KubeVirt uses software emulation (useEmulation): not the tuned configuration"
fi
if ! nl_retry 6 20 nl_kubectl apply -f "$NESTLAB_ETC/manifests/kubevirt-cr.yaml" >>"$log" 2>&1; then
  nl_fail "kubectl apply of the KubeVirt CR failed: $(nl_last_line "$log")"
fi
nl_ok "useEmulation=${NESTLAB_KUBEVIRT_EMULATION:-0}"

nl_phase kubevirt-available
timeout=${NESTLAB_KUBEVIRT_TIMEOUT:-20m}
if ! nl_kubectl -n kubevirt wait kv kubevirt --for condition=Available --timeout="$timeout" >>"$log" 2>&1; then
  phase=$(nl_kubectl -n kubevirt get kv kubevirt -o jsonpath='{.status.phase}' 2>/dev/null || true)
  nl_fail "KubeVirt was not Available within $timeout (phase ${phase:-unknown})"
fi
nl_ok
nl_emit kubevirt ok
