#!/usr/bin/env bash
# Runs the node scripts named as arguments, in order, and stops at the first that
# fails. One entry point for cloud-init's runcmd (which does not stop on errors by
# itself); its final line, `NESTLAB phase=bootstrap status=ok|failed`, tells nestlab
# that this node is done.
set -Eeuo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
source "$here/lib.sh"
nl_init bootstrap

nl_phase bootstrap "$*"
for step in "$@"; do
  if [[ $step != *.sh || $step == */* || ! -x $here/$step ]]; then
    nl_fail "no node script '$step' in $here"
  fi
  if ! "$here/$step"; then
    nl_fail "$step failed"
  fi
done
nl_ok "$*"
