#!/usr/bin/env bash
# Smoke tests, on the control plane: waits (bounded) until the expected number of
# nodes is Ready, then applies one object per runtime from
# /etc/nestlab/manifests/smoke and waits for it to reach its expected state.
# Every test reports its own phase (smoke-<runtime>); the script fails at the end
# if any test failed, so one broken runtime does not hide the others' results.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init smoke-test

smoke="$NESTLAB_ETC/manifests/smoke"
log="$NESTLAB_LOG_DIR/smoke.log"
expected=${NESTLAB_EXPECTED_NODES:-1}
deadline=$((SECONDS + ${NESTLAB_NODES_TIMEOUT:-1800}))

nl_phase nodes-ready "$expected"
ready=0
while :; do
  ready=$(nl_kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    2>/dev/null | grep -c '^True$' || true)
  if ((ready >= expected)); then
    break
  fi
  if ((SECONDS >= deadline)); then
    nl_fail "only $ready of $expected nodes Ready after ${NESTLAB_NODES_TIMEOUT:-1800}s"
  fi
  sleep 10
done
nl_ok "$ready nodes Ready"

failures=0
while IFS=$'\t' read -r runtime kind name namespace expect file; do
  if [[ -z $runtime || $runtime == \#* ]]; then
    continue
  fi
  nl_phase "smoke-$runtime" "$kind/$name"
  nl_kubectl delete -f "$smoke/$file" --ignore-not-found --wait=true --timeout=120s >>"$log" 2>&1 || true
  if ! nl_retry 3 10 nl_kubectl apply -f "$smoke/$file" >>"$log" 2>&1; then
    nl_emit "smoke-$runtime" failed "kubectl apply failed: $(nl_last_line "$log")"
    failures=$((failures + 1))
    continue
  fi
  timeout=${NESTLAB_SMOKE_TIMEOUT:-600s}
  case $kind in
    Pod) condition="jsonpath={.status.phase}=$expect" ;;
    *) condition="condition=$expect" ;;
  esac
  resource=$(printf '%s' "$kind" | tr '[:upper:]' '[:lower:]')
  if nl_kubectl -n "$namespace" wait "$resource/$name" --for="$condition" --timeout="$timeout" >>"$log" 2>&1; then
    nl_ok "$expect"
    nl_kubectl -n "$namespace" delete "$resource/$name" --wait=false >>"$log" 2>&1 || true
  else
    state=$(nl_kubectl -n "$namespace" get "$resource/$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    event=$(nl_kubectl -n "$namespace" get events --field-selector "involvedObject.name=$name" \
      -o jsonpath='{.items[-1:].message}' 2>/dev/null || true)
    nl_emit "smoke-$runtime" failed "$kind $name did not reach $expect within $timeout (phase ${state:-unknown}; last event: ${event:-none})"
    failures=$((failures + 1))
  fi
done <"$smoke/tests.tsv"

if ((failures > 0)); then
  nl_emit smoke-test failed "$failures smoke test(s) failed"
  exit 1
fi
nl_emit smoke-test ok
