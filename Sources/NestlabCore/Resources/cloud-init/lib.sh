# shellcheck shell=bash
# Shared helpers of the nestlab node scripts: parameters, phase reporting,
# downloads, package installs. Sourced by the scripts beside it, never run.
#
# Progress goes to stdout and to the serial console as one line per event:
#   NESTLAB phase=<name> status=<start|ok|failed> detail=<percent-encoded text>
# nestlab parses these lines from the console stream (VMs) or from the SSH
# output (bare metal); PhaseLine.swift is the other half of this format.

NESTLAB_ETC=${NESTLAB_ETC:-/etc/nestlab}
NESTLAB_ENV=${NESTLAB_ENV:-$NESTLAB_ETC/node.env}
NESTLAB_STATE=${NESTLAB_STATE:-/var/lib/nestlab}
NESTLAB_CACHE=${NESTLAB_CACHE:-/var/cache/nestlab/downloads}
NESTLAB_LOG_DIR=${NESTLAB_LOG_DIR:-/var/log/nestlab}
NESTLAB_CONSOLE=${NESTLAB_CONSOLE:-/dev/ttyS0}
nl_script=script
nl_phase_name=""

# Percent-encodes everything but A-Z a-z 0-9 . _ ~ / : - (byte-wise, so UTF-8 survives).
nl_urlencode() {
  local LC_ALL=C text=$1 out="" char code i
  for ((i = 0; i < ${#text}; i++)); do
    char=${text:i:1}
    case $char in
      [A-Za-z0-9._~/:-]) out+=$char ;;
      *)
        printf -v code '%d' "'$char"
        printf -v char '%%%02X' $((code & 255))
        out+=$char
        ;;
    esac
  done
  printf '%s' "$out"
}

# Writes one phase line to stdout and, when it is writable, the serial console.
nl_emit() {
  local line
  line="NESTLAB phase=$1 status=$2 detail=$(nl_urlencode "${3:-}")"
  printf '%s\n' "$line"
  if [[ -n $NESTLAB_CONSOLE && -w $NESTLAB_CONSOLE ]]; then
    # A console nobody reads must not stall the script: bound the write.
    printf '%s\n' "$line" | timeout 5 tee -a "$NESTLAB_CONSOLE" >/dev/null 2>&1 || true
  fi
  if [[ -d $NESTLAB_STATE ]]; then
    printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line" >>"$NESTLAB_STATE/phases.log" 2>/dev/null || true
  fi
}

nl_log() {
  printf '%s: %s\n' "$nl_script" "$*" >&2
}

nl_phase() {
  nl_phase_name=$1
  nl_emit "$1" start "${2:-}"
}

nl_ok() {
  nl_emit "${nl_phase_name:-$nl_script}" ok "${1:-}"
  nl_phase_name=""
}

# Reports the current phase as failed with a reason, and exits.
nl_fail() {
  nl_emit "${nl_phase_name:-$nl_script}" failed "$1"
  exit 1
}

nl_on_err() {
  local rc=$1 command=$2 line=$3
  nl_emit "${nl_phase_name:-$nl_script}" failed "command '$command' exited $rc (${nl_script}.sh line $line)"
  exit "$rc"
}

# Sets up a script: strict mode is the caller's; this loads parameters and traps errors.
nl_init() {
  nl_script=$1
  trap 'nl_on_err $? "$BASH_COMMAND" "$LINENO"' ERR
  if [[ ! -r $NESTLAB_ENV ]]; then
    nl_fail "missing parameter file $NESTLAB_ENV"
  fi
  # shellcheck source=/dev/null
  source "$NESTLAB_ENV"
  mkdir -p "$NESTLAB_STATE" "$NESTLAB_CACHE" "$NESTLAB_LOG_DIR"
  if [[ $(id -u) -ne 0 && ${NESTLAB_ALLOW_NON_ROOT:-0} != 1 ]]; then
    nl_fail "must run as root"
  fi
}

# The last non-empty line of a log, for a failure detail.
nl_last_line() {
  local last
  last=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1) || true
  printf '%s' "${last:-no output}"
}

# Runs "$@" up to $1 times, doubling the pause from 2 s up to $2 s.
nl_retry() {
  local attempts=$1 max_delay=$2 delay=2 i
  shift 2
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then
      return 0
    fi
    if ((i == attempts)); then
      return 1
    fi
    sleep "$delay"
    delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
  done
}

nl_curl_reason() {
  case $1 in
    5) printf 'cannot resolve proxy' ;;
    6) printf 'cannot resolve host' ;;
    7) printf 'cannot connect' ;;
    22) printf 'HTTP error' ;;
    28) printf 'timed out' ;;
    35) printf 'TLS handshake failed' ;;
    52) printf 'empty reply' ;;
    56) printf 'connection reset' ;;
    60) printf 'TLS certificate not trusted' ;;
    *) printf 'download error' ;;
  esac
}

nl_sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

# Downloads $1 to $2 (no verification); fails the phase with curl's reason; never hangs.
nl_download() {
  local url=$1 part=$2 rc=0 host reason message
  mkdir -p "$(dirname "$part")"
  curl --fail --silent --show-error --location \
    --connect-timeout "${NESTLAB_CONNECT_TIMEOUT:-10}" --max-time "${NESTLAB_DOWNLOAD_TIMEOUT:-900}" \
    --retry "${NESTLAB_DOWNLOAD_RETRIES:-3}" --retry-delay 2 --retry-connrefused \
    --output "$part" "$url" 2>"$part.err" || rc=$?
  if ((rc != 0)); then
    host=${url#*://}
    host=${host%%/*}
    reason=$(nl_curl_reason "$rc")
    message=$(nl_last_line "$part.err")
    rm -f "$part" "$part.err"
    nl_fail "cannot reach $host: $reason (curl exit $rc: $message) while downloading $url"
  fi
  rm -f "$part.err"
}

# Sets nl_sha to the digest to verify $1 against: $2 itself, or for "upstream" the first
# field of the $1.sha256 file that upstream publishes. "unpinned" fails: nothing vouches
# for the file. (A global, not $(...), so that nl_fail exits the script, not a subshell.)
nl_sha=""
nl_resolve_sha() {
  local url=$1 sha=$2 sums
  case $sha in
    upstream)
      sums=$(mktemp)
      nl_download "$url.sha256" "$sums"
      sha=$(awk 'NR == 1 { print $1 }' "$sums")
      rm -f "$sums"
      if [[ ! $sha =~ ^[0-9a-f]{64}$ ]]; then
        nl_fail "$url.sha256 does not hold a SHA-256 digest"
      fi
      ;;
    unpinned)
      nl_fail "no pinned sha256 for $url; run 'nestlab cache fetch' on a machine with internet to pin it in the topology's lock file"
      ;;
  esac
  nl_sha=$sha
}

# Downloads $1 to $2 unless $2 already has sha256 $3; never hangs (bounded curl).
nl_fetch() {
  local url=$1 dest=$2 sha=$3 part got
  if [[ -f $dest && $(nl_sha256_of "$dest") == "$sha" ]]; then
    return 0
  fi
  part="$dest.part"
  nl_download "$url" "$part"
  got=$(nl_sha256_of "$part")
  if [[ $got != "$sha" ]]; then
    rm -f "$part"
    nl_fail "sha256 mismatch for $url: expected $sha, got $got"
  fi
  mv -f "$part" "$dest"
}

# Installs every artifact of list $NESTLAB_ETC/artifacts/$1.tsv. Columns (tab-separated):
#   url sha256 kind dest member mode
# kind file:    the download is the file; installed at dest with mode
# kind member:  one member of a tarball; installed at dest with mode
# kind extract: the whole tarball unpacked into directory dest, member = strip count
nl_install_artifacts() {
  local list="$NESTLAB_ETC/artifacts/$1.tsv" url sha kind dest member mode cached scratch
  if [[ ! -r $list ]]; then
    nl_fail "missing artifact list $list"
  fi
  while IFS=$'\t' read -r url sha kind dest member mode; do
    if [[ -z $url || $url == \#* ]]; then
      continue
    fi
    nl_resolve_sha "$url" "$sha"
    sha=$nl_sha
    cached="$NESTLAB_CACHE/$sha"
    nl_fetch "$url" "$cached" "$sha"
    case $kind in
      file)
        install -D -m "$mode" "$cached" "$dest"
        printf '%s\n' "$dest" >>"$NESTLAB_STATE/installed.list"
        ;;
      member)
        scratch=$(mktemp -d)
        if ! tar -xf "$cached" -C "$scratch" "$member"; then
          rm -rf "$scratch"
          nl_fail "$url has no member $member"
        fi
        install -D -m "$mode" "$scratch/$member" "$dest"
        rm -rf "$scratch"
        printf '%s\n' "$dest" >>"$NESTLAB_STATE/installed.list"
        ;;
      extract)
        mkdir -p "$dest"
        if ! tar -xf "$cached" -C "$dest" --strip-components "$member" --no-same-owner; then
          nl_fail "cannot unpack $url into $dest"
        fi
        tar -tf "$cached" | awk -v dir="$dest" -v strip="$member" '
          /\/$/ { next }
          { n = split($0, parts, "/"); path = ""
            for (i = strip + 1; i <= n; i++) if (parts[i] != "." && parts[i] != "") path = path "/" parts[i]
            if (path != "") { sub(/\/$/, "", dir); print dir path } }' >>"$NESTLAB_STATE/installed.list"
        ;;
      *)
        nl_fail "unknown artifact kind '$kind' in $list"
        ;;
    esac
  done <"$list"
}

nl_has_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Installs Debian/Ubuntu packages that are missing; records what nestlab added.
nl_apt_install() {
  local missing=() package log="$NESTLAB_LOG_DIR/apt.log"
  for package in "$@"; do
    if ! nl_has_package "$package"; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  local apt=(apt-get -y -q -o Acquire::Retries=2 -o Acquire::http::Timeout=20 -o Dpkg::Options::=--force-confold)
  if ! DEBIAN_FRONTEND=noninteractive timeout 900 "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive timeout 600 "${apt[@]}" update >>"$log" 2>&1 || true
    if ! DEBIAN_FRONTEND=noninteractive timeout 900 "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
      nl_fail "apt-get install ${missing[*]} failed: $(nl_last_line "$log")"
    fi
  fi
  printf '%s\n' "${missing[@]}" >>"$NESTLAB_STATE/apt-installed.list"
}

# Sets `key = value` in a TOML file: replaces the first live `key =` line, else
# uncomments the first `# key =` line. Returns 1 when the file has neither.
nl_toml_set() {
  local file=$1 key=$2 line=$3
  awk -v key="$key" -v line="$line" '
    BEGIN { live = "^[[:space:]]*" key "[[:space:]]*="; dead = "^[[:space:]]*#[[:space:]]*" key "[[:space:]]*=" }
    { lines[NR] = $0 }
    END {
      target = 0
      for (i = 1; i <= NR && !target; i++) if (lines[i] ~ live) target = i
      for (i = 1; i <= NR && !target; i++) if (lines[i] ~ dead) target = i
      if (!target) exit 3
      for (i = 1; i <= NR; i++) print (i == target ? line : lines[i])
    }' "$file" >"$file.nestlab-new" || {
    rm -f "$file.nestlab-new"
    return 1
  }
  mv -f "$file.nestlab-new" "$file"
}

# Writes flannel manifest $1 to $2 with its pod network set to $3 (flannel's
# kube-flannel.yml hard-codes "Network": "10.244.0.0/16"). Returns 1 if $1 has none.
nl_flannel_network() {
  local source=$1 target=$2 subnet=$3
  sed "s#\"Network\": \"10.244.0.0/16\"#\"Network\": \"$subnet\"#" "$source" >"$target"
  grep -q "\"Network\": \"$subnet\"" "$target"
}

# kubectl as cluster admin, on the control plane.
nl_kubectl() {
  kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"
}

# Builds a one-binary OCI image archive from /bin/busybox into $1 (no registry needed).
nl_busybox_oci() {
  local out=$1 work layer_sha layer_size config_sha config_size manifest_sha manifest_size
  work=$(mktemp -d)
  mkdir -p "$work/rootfs/bin" "$work/oci/blobs/sha256"
  cp /bin/busybox "$work/rootfs/bin/busybox"
  ln -s busybox "$work/rootfs/bin/sh"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" bin
  layer_sha=$(nl_sha256_of "$work/layer.tar")
  layer_size=$(stat -c %s "$work/layer.tar")
  mv "$work/layer.tar" "$work/oci/blobs/sha256/$layer_sha"
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer_sha" >"$work/config.json"
  config_sha=$(nl_sha256_of "$work/config.json")
  config_size=$(stat -c %s "$work/config.json")
  mv "$work/config.json" "$work/oci/blobs/sha256/$config_sha"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config_sha" "$config_size" "$layer_sha" "$layer_size" >"$work/manifest.json"
  manifest_sha=$(nl_sha256_of "$work/manifest.json")
  manifest_size=$(stat -c %s "$work/manifest.json")
  mv "$work/manifest.json" "$work/oci/blobs/sha256/$manifest_sha"
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"nestlab/busybox:local"}}]}' \
    "$manifest_sha" "$manifest_size" >"$work/oci/index.json"
  tar -C "$work/oci" -cf "$out" oci-layout index.json blobs
  rm -rf "$work"
}

# Runs a container from a locally built image under each runc-type handler ($@ = NAME=BINARY ...),
# through containerd itself; fails the phase with the handler's error.
nl_containerd_smoke() {
  local archive ns=nestlab-smoke spec name binary output
  archive=$(mktemp)
  nl_busybox_oci "$archive"
  ctr -n "$ns" images import --base-name nestlab/busybox --digests "$archive" >/dev/null 2>"$archive.err" \
    || nl_fail "containerd cannot import the local test image: $(nl_last_line "$archive.err")"
  rm -f "$archive" "$archive.err"
  for spec in "$@"; do
    name=${spec%%=*}
    binary=${spec#*=}
    ctr -n "$ns" containers rm "smoke-$name" >/dev/null 2>&1 || true
    if ! output=$(ctr -n "$ns" run --rm --runc-binary "$binary" nestlab/busybox:local "smoke-$name" \
        /bin/busybox echo "nestlab-smoke-$name" 2>&1); then
      nl_fail "a container did not run under handler $name ($binary): ${output##*$'\n'}"
    fi
    if [[ $output != *"nestlab-smoke-$name"* ]]; then
      nl_fail "the container under handler $name printed '${output}' instead of nestlab-smoke-$name"
    fi
  done
}
