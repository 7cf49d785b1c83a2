#!/usr/bin/env bash
# Worker bootstrap: `kubeadm join` with nestlab's JoinConfiguration, retried with
# backoff until the control plane answers (all VMs boot at once, so workers are
# usually up first). Bounded: gives up after NESTLAB_JOIN_ATTEMPTS. Idempotent.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init join

log="$NESTLAB_LOG_DIR/kubeadm-join.log"
attempts=${NESTLAB_JOIN_ATTEMPTS:-60}
max_delay=${NESTLAB_JOIN_MAX_DELAY:-30}

nl_phase kubeadm-join "${NESTLAB_ENDPOINT:-}"
if [[ -f /etc/kubernetes/kubelet.conf ]]; then
  nl_ok "already joined"
  nl_emit join ok
  exit 0
fi
delay=2
last="no attempt made"
for ((attempt = 1; attempt <= attempts; attempt++)); do
  code=$(curl -ks --connect-timeout 5 --max-time 10 -o /dev/null -w '%{http_code}' \
    "https://${NESTLAB_ENDPOINT:?}/readyz" 2>/dev/null || true)
  if [[ $code == 200 ]]; then
    if kubeadm join --config "$NESTLAB_ETC/kubeadm/join.yaml" >>"$log" 2>&1; then
      touch "$NESTLAB_STATE/join.done"
      nl_ok "joined after $attempt attempt(s)"
      nl_emit join ok
      exit 0
    fi
    last="kubeadm join failed: $(nl_last_line "$log")"
    # A failed join leaves files behind that make the next one refuse to start.
    kubeadm reset -f >>"$log" 2>&1 || true
  else
    last="control plane $NESTLAB_ENDPOINT not ready (readyz HTTP ${code:-000})"
  fi
  if ((attempt == attempts)); then
    break
  fi
  nl_log "attempt $attempt/$attempts: $last; next in ${delay}s"
  sleep "$delay"
  delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
done
nl_fail "gave up after $attempts attempts: $last"
