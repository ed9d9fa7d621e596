#!/usr/bin/env bash
# MCS Edge installer (PKG-2): install, re-run (idempotent), --upgrade (with rollback) and
# --uninstall of the single binary, its configuration, TLS certificate and systemd unit (PKG-3).
#
#   curl -fsSL <release-url>/install.sh | sudo bash -s -- [flags]
#   sudo ./install.sh --from mcs-edge-<version>-linux-x64.tar.xz [flags]
#
# Every step prints `✔ step` or `✘ step: reason`; everything also goes to
# <root>/var/log/mcs-edge-install.log. Nothing changes before all checks pass, and a failure after
# the first change undoes what this run did (see rollback). The whole script is functions and a
# `main` call on the last line, so `curl … | bash` runs only once it has been read completely.
# One file on purpose (it is downloaded and run alone), so it is longer than the house ~300 lines.
set -Eeuo pipefail

MCS_VERSION="${MCS_VERSION:-0.0.0-dev}"
# Where this release is published (stamped by `npm run package -- --release-url URL`).
MCS_RELEASE_URL="${MCS_RELEASE_URL:-https://releases.mcs-edge.example/${MCS_VERSION}}"

readonly SERVICE=mcs-edge
readonly SERVICE_USER=mcs
readonly EX_USAGE=64
readonly MIN_MEM_MB="${MCS_INSTALL_MIN_MEM_MB:-512}"
readonly MIN_DISK_MB="${MCS_INSTALL_MIN_DISK_MB:-500}"
readonly HEALTH_TIMEOUT_S="${MCS_INSTALL_HEALTH_TIMEOUT_S:-30}"
readonly STOP_TIMEOUT_S=15
readonly DEFAULT_HTTP_PORT=8080 DEFAULT_MQTT_PORT=1883 DEFAULT_MQTTS_PORT=8883

# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------
MODE=install # install | upgrade | uninstall
FROM="" BASE_URL="" ROOT="" PURGE=0 SKIP_CHECKSUM=0 NO_START=0 UNATTENDED=0
ADMIN_PASSWORD="" LICENSE_FILE="" TLS_CHOICE=""
HTTP_PORT_FLAG="" MQTT_PORT_FLAG="" MQTTS_PORT_FLAG=""
PLATFORM="" # linux-x64 | linux-arm64, from uname -m

usage() {
  cat <<EOF
MCS Edge installer ${MCS_VERSION}

Usage:
  curl -fsSL <release-url>/install.sh | sudo bash -s -- [options]
  sudo ./install.sh --from mcs-edge-<version>-linux-x64.tar.xz [options]

Source:
  --from FILE              install from a downloaded release tarball (SHA256SUMS beside it): the
                           .tar.xz, or an older release's .tar.gz
  --base-url URL           where to download from (default ${MCS_RELEASE_URL})
  --skip-checksum          install without SHA256SUMS (not recommended)
Settings (asked for when a terminal is available and --unattended is not given):
  --admin-password P       first admin's password (8-128 characters; default: a random one-time
                           password written to the service log)
  --license-file FILE      license key file to install
  --tls MODE               self-signed (default) | none | CERT.pem,KEY.pem
  --http-port N            admin UI and API (default ${DEFAULT_HTTP_PORT})
  --mqtt-port N            MQTT for detectors (default ${DEFAULT_MQTT_PORT})
  --mqtts-port N           MQTT over TLS (default ${DEFAULT_MQTTS_PORT})
Modes:
  --upgrade                replace the binary of an existing install; keeps config and data, backs
                           up the database and rolls back if the new version is not healthy
  --uninstall [--purge]    remove binary, unit and wrapper; --purge also removes config, data and user
Other:
  --no-start               install but do not start the service
  --unattended             never ask
  --root DIR               install below DIR instead of / (tests; runs the binary without systemd)
  -h, --help               this text

Exit status: 0 done, 1 failed (details above and in /var/log/mcs-edge-install.log), 64 bad usage.
EOF
}

usage_error() {
  printf 'install.sh: %s\nTry --help.\n' "$1" >&2
  exit "$EX_USAGE"
}

is_port() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# Takes the value of an option given as `--name value` or `--name=value`.
option_value() {
  local name=$1 inline=$2 next=${3-}
  if [[ -n $inline ]]; then printf '%s' "$inline"; return; fi
  [[ -n $next && $next != --* ]] || usage_error "$name needs a value"
  printf '%s' "$next"
}

parse_args() {
  local arg name inline value shift_by
  while (($#)); do
    arg=$1 name=${1%%=*} inline="" shift_by=1
    [[ $arg == *=* ]] && inline=${arg#*=}
    case $name in
      --from | --base-url | --root | --admin-password | --license-file | --tls | --http-port | --mqtt-port | --mqtts-port)
        value=$(option_value "$name" "$inline" "${2-}")
        [[ -n $inline ]] || shift_by=2
        set_option "$name" "$value" ;;
      --upgrade) set_mode upgrade ;;
      --uninstall) set_mode uninstall ;;
      --purge) PURGE=1 ;;
      --skip-checksum) SKIP_CHECKSUM=1 ;;
      --no-start) NO_START=1 ;;
      --unattended) UNATTENDED=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option: $arg" ;;
    esac
    shift "$shift_by"
  done
  check_option_combinations
}

set_mode() {
  [[ $MODE == install || $MODE == "$1" ]] || usage_error "--$MODE and --$1 exclude each other"
  MODE=$1
}

set_option() {
  local name=$1 value=$2
  case $name in
    --from) [[ -f $value ]] || usage_error "--from: no such file: $value"; FROM=$(absolute_path "$value") ;;
    --base-url) [[ $value =~ ^https?:// ]] || usage_error "--base-url must be an http(s) URL: $value"; BASE_URL=${value%/} ;;
    --root) [[ -d $value ]] || usage_error "--root: no such directory: $value"; ROOT=$(cd "$value" && pwd -P) ;;
    --admin-password) check_password "$value" || usage_error "--admin-password: $PASSWORD_PROBLEM"; ADMIN_PASSWORD=$value ;;
    --license-file) [[ -f $value && -r $value && -s $value ]] || usage_error "--license-file: not a readable, non-empty file: $value"
      LICENSE_FILE=$(absolute_path "$value") ;;
    --tls) check_tls_choice "$value"; TLS_CHOICE=$value ;;
    --http-port) is_port "$value" || usage_error "--http-port: not a port number: $value"; HTTP_PORT_FLAG=$((10#$value)) ;;
    --mqtt-port) is_port "$value" || usage_error "--mqtt-port: not a port number: $value"; MQTT_PORT_FLAG=$((10#$value)) ;;
    --mqtts-port) is_port "$value" || usage_error "--mqtts-port: not a port number: $value"; MQTTS_PORT_FLAG=$((10#$value)) ;;
  esac
}

check_tls_choice() {
  case $1 in
    self-signed | none) return ;;
    *,*) local cert=${1%%,*} key=${1#*,}
      [[ -f $cert && -r $cert ]] || usage_error "--tls: certificate not readable: $cert"
      [[ -f $key && -r $key ]] || usage_error "--tls: key not readable: $key" ;;
    *) usage_error "--tls: expected self-signed, none or CERT.pem,KEY.pem, got: $1" ;;
  esac
}

PASSWORD_PROBLEM=""
check_password() {
  local length=${#1}
  if ((length < 8 || length > 128)); then PASSWORD_PROBLEM="must have 8 to 128 characters"; return 1; fi
  # The env file quotes it in '...' (systemd EnvironmentFile syntax): no quote or control characters.
  if [[ $1 == *"'"* || $1 =~ [[:cntrl:]] ]]; then PASSWORD_PROBLEM="must not contain ' or control characters"; return 1; fi
}

check_option_combinations() {
  ((PURGE == 0)) || [[ $MODE == uninstall ]] || usage_error "--purge only goes with --uninstall"
  if [[ $MODE == uninstall && -n $FROM$BASE_URL$ADMIN_PASSWORD$LICENSE_FILE$TLS_CHOICE$HTTP_PORT_FLAG$MQTT_PORT_FLAG$MQTTS_PORT_FLAG ]]; then
    usage_error "--uninstall takes no install options"
  fi
  [[ -z $FROM || -z $BASE_URL ]] || usage_error "--from and --base-url exclude each other"
  local ports=("${HTTP_PORT_FLAG:-x}" "${MQTT_PORT_FLAG:-y}" "${MQTTS_PORT_FLAG:-z}")
  if [[ ${ports[0]} == "${ports[1]}" || ${ports[0]} == "${ports[2]}" || ${ports[1]} == "${ports[2]}" ]]; then
    usage_error "the HTTP, MQTT and MQTTS ports must differ"
  fi
}

absolute_path() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd -P)" "$(basename "$1")"); }

# ---------------------------------------------------------------------------------------------
# Paths (everything below --root when given)
# ---------------------------------------------------------------------------------------------
set_paths() {
  OPT_DIR=$ROOT/opt/mcs-edge
  BIN=$OPT_DIR/mcs-edge
  PREVIOUS_BIN=$OPT_DIR/mcs-edge.previous
  ETC_DIR=$ROOT/etc/mcs-edge
  CONFIG=$ETC_DIR/config.json
  ENV_FILE=$ETC_DIR/mcs-edge.env
  TLS_DIR=$ETC_DIR/tls
  TLS_CERT=$TLS_DIR/cert.pem
  TLS_KEY=$TLS_DIR/key.pem
  DATA_DIR=$ROOT/var/lib/mcs-edge
  UNIT_FILE=$ROOT/etc/systemd/system/mcs-edge.service
  DROPIN_DIR=$ROOT/etc/systemd/system/mcs-edge.service.d
  PORTS_DROPIN=$DROPIN_DIR/10-ports.conf
  WRAPPER=$ROOT/usr/local/bin/mcs-edge
  INSTALL_LOG=$ROOT/var/log/mcs-edge-install.log
  # Without systemd (--root, containers) the service is a background process with these files.
  PID_FILE=$ROOT/run/mcs-edge.pid
  SERVICE_LOG_DIR=$ROOT/var/log/mcs-edge
  SERVICE_LOG=$SERVICE_LOG_DIR/mcs-edge.log
}

uses_systemd() { [[ -z $ROOT && -d /run/systemd/system ]] && command -v systemctl >/dev/null; }
is_installed() { [[ -f $BIN && -f $CONFIG ]]; }

# ---------------------------------------------------------------------------------------------
# Output, steps and failure
# ---------------------------------------------------------------------------------------------
CURRENT_STEP="start" LOG_READY=0 WORK=""

log_line() {
  if ((LOG_READY)); then printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$INSTALL_LOG" || true; fi
}
say() { printf '%s\n' "$*"; log_line "$*"; }
note() { say "  $*"; }

open_log() {
  mkdir -p "$(dirname "$INSTALL_LOG")"
  touch "$INSTALL_LOG"
  chmod 0640 "$INSTALL_LOG"
  LOG_READY=1
  log_line "---- install.sh ${MCS_VERSION} $MODE ($(id -un)): ${ORIGINAL_ARGS}"
}

# Runs one step: `step "name" function args…` prints ✔ name when the function returns.
step() {
  CURRENT_STEP=$1
  shift
  STEP_DETAIL=""
  "$@"
  say "✔ $CURRENT_STEP${STEP_DETAIL:+: $STEP_DETAIL}"
}

fail() {
  printf '✘ %s: %s\n' "$CURRENT_STEP" "$*" >&2
  log_line "✘ $CURRENT_STEP: $*"
  exit 1
}

# Runs a command with its output going to the install log; on failure the last lines are shown.
logged() {
  local output status=0
  output=$("$@" 2>&1 </dev/null) || status=$?
  [[ -z $output ]] || log_line "$output"
  if ((status != 0)); then
    LAST_OUTPUT=$(printf '%s' "$output" | tail -n 5 | tr -s '\n \t' ' ')
    return "$status"
  fi
}

on_error() {
  local status=$1 line=$2 command=$3
  [[ $BASHPID == "$$" ]] || exit "$status" # a subshell: its parent reports
  fail "unexpected failure (status $status, line $line): $command"
}

on_exit() {
  local status=$?
  set +e
  trap - ERR
  if ((status != 0 && CHANGES_STARTED)); then rollback; fi
  if ((status != 0)) && ((LOG_READY)); then printf 'Details: %s\n' "$INSTALL_LOG" >&2; fi
  [[ -z $WORK ]] || rm -rf "$WORK"
  exit "$status"
}

# ---------------------------------------------------------------------------------------------
# Changes and their undo (a failure mid-install removes what this run created)
# ---------------------------------------------------------------------------------------------
CHANGES_STARTED=0 CHANGED=0 CREATED_USER=0 CREATED_GROUP=0 ENABLED_BY_US=0
SERVICE_WAS_RUNNING=0 SERVICE_TOUCHED=0 DB_BACKUP_DIR="" OLD_VERSION=""
CREATED_PATHS=() REPLACED_PATHS=() TOUCHED_DIRS=()

begin_changes() {
  CHANGES_STARTED=1
  mkdir -p "$WORK/replaced"
}

ensure_dir() { # path mode [owner:group]
  local dir=$1 mode=$2 owner=${3-}
  if [[ ! -d $dir ]]; then
    local missing=$dir
    while [[ ! -d $(dirname "$missing") ]]; do missing=$(dirname "$missing"); done
    remember_mtime "$(dirname "$missing")"
    mkdir -p "$dir"
    CREATED_PATHS+=("$missing")
  fi
  set_mode_owner "$dir" "$mode" "$owner"
}

set_mode_owner() { # path mode [owner:group]
  [[ $(stat -c %a "$1") == "${2#0}" ]] || chmod "$2" "$1"
  # --root: files belong to whoever runs the installer; there is no `mcs` account.
  if [[ -n ${3-} && -z $ROOT ]]; then chown "$3" "$1"; fi
}

# Puts `source` at `target` unless identical content is already there (then only mode and owner
# are checked, the file and its mtime stay); a replaced file is kept for the rollback.
install_file() { # source target mode [owner:group]
  local source=$1 target=$2 mode=$3 owner=${4-}
  if [[ -f $target ]] && cmp -s "$source" "$target"; then
    set_mode_owner "$target" "$mode" "$owner"
    return 0
  fi
  local staged
  remember_mtime "$(dirname "$target")"
  staged=$(dirname "$target")/.$(basename "$target").new-$$
  cp "$source" "$staged"
  set_mode_owner "$staged" "$mode" "$owner"
  if [[ -e $target ]]; then
    local saved
    saved=$WORK/replaced/${#REPLACED_PATHS[@]}
    cp -p "$target" "$saved"
    REPLACED_PATHS+=("$target|$saved")
  else
    CREATED_PATHS+=("$target")
  fi
  mv -f "$staged" "$target"
  CHANGED=1
}

install_text() { # target mode owner <<< text
  local staged=$WORK/text-$RANDOM
  cat >"$staged"
  install_file "$staged" "$@"
}

remove_file() {
  [[ -e $1 ]] || return 0
  local saved=$WORK/replaced/${#REPLACED_PATHS[@]}
  cp -p "$1" "$saved"
  REPLACED_PATHS+=("$1|$saved")
  rm -f "$1"
  CHANGED=1
}

# A directory's mtime changes when this run adds or removes entries; a rollback puts it back.
remember_mtime() {
  local dir=$1 i
  for i in "${!TOUCHED_DIRS[@]}"; do [[ ${TOUCHED_DIRS[i]} != "$dir" ]] || return 0; done
  touch -r "$dir" "$WORK/mtime-${#TOUCHED_DIRS[@]}"
  TOUCHED_DIRS+=("$dir")
}

restore_mtime_of() {
  local dir=$1 i
  for i in "${!TOUCHED_DIRS[@]}"; do
    [[ ${TOUCHED_DIRS[i]} != "$dir" ]] || { touch -c -m -r "$WORK/mtime-$i" "$dir" 2>/dev/null || true; return 0; }
  done
}

rollback() {
  CURRENT_STEP="rollback"
  say "Undoing the changes of this run…"
  if ((SERVICE_TOUCHED)); then service_stop; fi
  local i entry
  for ((i = ${#REPLACED_PATHS[@]} - 1; i >= 0; i--)); do
    entry=${REPLACED_PATHS[i]}
    cp -p "${entry#*|}" "${entry%%|*}" && log_line "restored ${entry%%|*}"
  done
  for ((i = ${#CREATED_PATHS[@]} - 1; i >= 0; i--)); do
    rm -rf "${CREATED_PATHS[i]}" && log_line "removed ${CREATED_PATHS[i]}"
  done
  for ((i = ${#TOUCHED_DIRS[@]} - 1; i >= 0; i--)); do restore_mtime_of "${TOUCHED_DIRS[i]}"; done
  if [[ -n $DB_BACKUP_DIR ]]; then restore_database; fi
  if uses_systemd; then
    ((ENABLED_BY_US == 0)) || logged systemctl disable "$SERVICE"
    logged systemctl daemon-reload
  fi
  ((CREATED_USER == 0)) || logged userdel "$SERVICE_USER"
  ((CREATED_GROUP == 0)) || ! getent group "$SERVICE_USER" >/dev/null || logged groupdel "$SERVICE_USER"
  # Only a service this run stopped or restarted needs starting again.
  if ((SERVICE_WAS_RUNNING && SERVICE_TOUCHED)); then restart_previous_version; else say "✔ rollback: nothing of this run is left"; fi
}

restart_previous_version() {
  read_settings_from_config
  service_start
  if wait_healthy "$OLD_VERSION"; then
    say "✔ rollback: version ${OLD_VERSION:-previous} is running again and healthy"
  else
    printf '✘ rollback: the previous version did not become healthy either: %s\n' "$HEALTH_PROBLEM" >&2
    log_line "✘ rollback: previous version not healthy: $HEALTH_PROBLEM"
  fi
}

# ---------------------------------------------------------------------------------------------
# Checks (before any change)
# ---------------------------------------------------------------------------------------------
check_privileges() {
  [[ -n $ROOT || $(id -u) == 0 ]] || { printf '✘ checks: run as root (sudo), or give --root DIR\n' >&2; exit 1; }
}

check_platform() {
  local os arch
  os=$(uname -s) arch=$(uname -m)
  [[ $os == Linux ]] || fail "MCS Edge runs on Linux; this is $os"
  case $arch in
    x86_64) PLATFORM=linux-x64 ;;
    aarch64 | arm64) PLATFORM=linux-arm64 ;; # PKG-1: the same source builds it on an arm64 host
    *) fail "MCS Edge is built for x86_64 and arm64; this machine is $arch" ;;
  esac
  STEP_DETAIL="$os $arch ($PLATFORM)"
}

check_memory() {
  local total_kb
  total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
  ((total_kb / 1024 >= MIN_MEM_MB)) || fail "$((total_kb / 1024)) MB of memory, at least ${MIN_MEM_MB} MB needed"
  STEP_DETAIL="$((total_kb / 1024)) MB"
}

existing_ancestor() {
  local dir=$1
  while [[ ! -e $dir ]]; do dir=$(dirname "$dir"); done
  printf '%s' "$dir"
}

free_mb() { df -Pk "$(existing_ancestor "$1")" | awk 'NR == 2 { print int($4 / 1024) }'; }

check_disk() {
  local needed=$MIN_DISK_MB dir free
  # --upgrade copies the database before replacing the binary.
  [[ $MODE != upgrade ]] || needed=$((needed + $(du -smc "$CONFIG_DATA_DIR"/mcs-edge.db* 2>/dev/null | awk 'END { print $1 + 0 }')))
  for dir in "$OPT_DIR" "$DATA_DIR"; do
    free=$(free_mb "$dir")
    ((free >= needed)) || fail "$free MB free at $(existing_ancestor "$dir"), at least $needed MB needed"
  done
  STEP_DETAIL="$free MB free"
}

# Inodes of listening TCP sockets on a port (IPv4 and IPv6), from /proc: no ss/netstat needed.
listening_inodes() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v hex="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (a[n] == hex) print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true
}

held_by_our_service() { # inode
  local pid
  pid=$(service_pid) || return 1
  find "/proc/$pid/fd" -lname "socket:\[$1\]" 2>/dev/null | grep -q .
}

check_ports() {
  local entry name port flag inode
  for entry in "http:$HTTP_PORT:--http-port" "mqtt:$MQTT_PORT:--mqtt-port" "mqtts:$MQTTS_PORT:--mqtts-port"; do
    IFS=: read -r name port flag <<<"$entry"
    [[ $name != mqtts ]] || tls_enabled || continue
    for inode in $(listening_inodes "$port"); do
      held_by_our_service "$inode" || fail "port $port ($name) is in use by another program; free it or choose another with $flag"
    done
  done
  STEP_DETAIL="http $HTTP_PORT, mqtt $MQTT_PORT$(if_tls ", mqtts $MQTTS_PORT")"
}

check_tools() {
  local tool missing=()
  for tool in tar sha256sum curl awk df cmp; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [[ $TLS_MODE != self-signed ]] || [[ -f $TLS_CERT ]] || command -v openssl >/dev/null || missing+=(openssl)
  [[ -n $ROOT ]] || command -v runuser >/dev/null || missing+=(runuser)
  ((${#missing[@]} == 0)) || fail "missing programs: ${missing[*]} (install them with your package manager)"
}

check_existing_install() {
  INSTALLED_VERSION=""
  ! is_installed || INSTALLED_VERSION=$(installed_version)
  case $MODE in
    upgrade) is_installed || fail "--upgrade needs an existing install (none at $OPT_DIR); run without --upgrade" ;;
    install)
      if is_installed && [[ $INSTALLED_VERSION != "$RELEASE_VERSION" ]]; then
        fail "version $INSTALLED_VERSION is installed; use --upgrade to install $RELEASE_VERSION"
      fi ;;
  esac
  if is_installed; then STEP_DETAIL="version $INSTALLED_VERSION installed"; else STEP_DETAIL="fresh install"; fi
}

installed_version() { "$BIN" --version 2>/dev/null </dev/null || printf 'unknown'; }

# ---------------------------------------------------------------------------------------------
# Release: download or --from, checksum, unpack
# ---------------------------------------------------------------------------------------------
fetch_release() {
  if [[ -n $FROM ]]; then
    TARBALL=$FROM
    SUMS=$(dirname "$FROM")/SHA256SUMS
    STEP_DETAIL=$TARBALL
    return
  fi
  local base=${BASE_URL:-$MCS_RELEASE_URL}
  local name="mcs-edge-${MCS_VERSION}-${PLATFORM}.tar.xz"
  TARBALL=$WORK/$name SUMS=$WORK/SHA256SUMS
  logged curl -fsSL --retry 2 -o "$TARBALL" "$base/$name" || fail "cannot download $base/$name: $LAST_OUTPUT"
  if ((SKIP_CHECKSUM == 0)); then
    logged curl -fsSL --retry 2 -o "$SUMS" "$base/SHA256SUMS" || fail "cannot download $base/SHA256SUMS: $LAST_OUTPUT"
  fi
  STEP_DETAIL="$base/$name"
}

verify_checksum() {
  if ((SKIP_CHECKSUM)); then STEP_DETAIL="skipped (--skip-checksum)"; return; fi
  [[ -f $SUMS ]] || fail "no SHA256SUMS beside $TARBALL (give --skip-checksum to install without it)"
  local name expected actual
  name=$(basename "$TARBALL")
  expected=$(awk -v name="$name" '$2 == name || $2 == "*" name { print $1; exit }' "$SUMS")
  [[ -n $expected ]] || fail "SHA256SUMS has no line for $name"
  actual=$(sha256sum "$TARBALL" | awk '{ print $1 }')
  [[ ${actual,,} == "${expected,,}" ]] || fail "checksum mismatch for $name (expected $expected, got $actual): the file is damaged or not the release"
  STEP_DETAIL="sha256 $actual"
}

# The release is a .tar.xz since Node 24 made the executable too big for 35 MB of gzip (PKG-1,
# BENCHMARKS.md "The release tarball in xz"); an older release's .tar.gz given with --from still
# installs. The format is read from the file's first bytes (the xz and gzip magic numbers), not
# from its name, which a download may have changed: then a missing xz is named before tar fails on
# it with its own "Cannot exec", and a file that is no compressed tarball at all is said to be so.
release_compression() { # file → xz | gzip
  local magic
  magic=$(od -An -tx1 -N6 "$1" | tr -d ' \n')
  case $magic in
    fd377a585a00) printf xz ;;
    1f8b*) printf gzip ;;
    *) return 1 ;;
  esac
}

# The program tar runs to decompress, checked here rather than in check_tools (which runs after the
# settings, too late for the unpack). Debian 12 ranks xz-utils "standard": a default install has
# it, a minimal debootstrap or a *-slim container image has not.
check_decompressor() { # xz | gzip
  command -v "$1" >/dev/null && return 0
  local package=$1
  [[ $1 != xz ]] || package=xz-utils
  fail "missing program: $1, needed to unpack the release; install it (Debian/Ubuntu: apt-get install $package) and run again / 缺少程序 $1，解压发布包需要它；请先安装（Debian/Ubuntu：apt-get install $package）再重新运行"
}

unpack_release() {
  local compression
  compression=$(release_compression "$TARBALL") ||
    fail "$TARBALL is not a release tarball: neither xz nor gzip compressed / $TARBALL 不是发布包：既非 xz 也非 gzip 压缩"
  check_decompressor "$compression"
  local decompress=--xz
  [[ $compression == xz ]] || decompress=--gzip
  mkdir -p "$WORK/release"
  logged tar "$decompress" -xf "$TARBALL" -C "$WORK/release" --no-same-owner || fail "cannot unpack $TARBALL: $LAST_OUTPUT"
  local dirs=("$WORK"/release/mcs-edge-*-"$PLATFORM")
  [[ -d ${dirs[0]} && ${#dirs[@]} == 1 ]] || fail "$TARBALL does not hold one mcs-edge-<version>-$PLATFORM/ directory (a release for another machine?)"
  RELEASE_DIR=${dirs[0]}
  RELEASE_VERSION=$(basename "$RELEASE_DIR")
  RELEASE_VERSION=${RELEASE_VERSION#mcs-edge-}
  RELEASE_VERSION=${RELEASE_VERSION%-"$PLATFORM"}
  local file
  for file in mcs-edge mcs-edge.service; do
    [[ -f $RELEASE_DIR/$file ]] || fail "the release has no $file"
  done
  [[ -x $RELEASE_DIR/mcs-edge ]] || fail "the release's mcs-edge is not executable"
  STEP_DETAIL="version $RELEASE_VERSION ($compression)"
}

# ---------------------------------------------------------------------------------------------
# Settings: flags, then the existing config, then questions, then defaults
# ---------------------------------------------------------------------------------------------

# Reads `key` or `section.key` from a config.json laid out one setting per line (as written here).
config_get() { # file key
  awk -v want="$2" '
    function value(line) { sub(/^[^:]*:[ \t]*/, "", line); sub(/[ \t]*,?[ \t]*$/, "", line); gsub(/^"|"$/, "", line); return line }
    /^[ \t]*"[^"]+"[ \t]*:[ \t]*\{/ { match($0, /"[^"]+"/); section = substr($0, RSTART + 1, RLENGTH - 2); next }
    /^[ \t]*\}/ { section = ""; next }
    /^[ \t]*"[^"]+"[ \t]*:/ { match($0, /"[^"]+"/); key = substr($0, RSTART + 1, RLENGTH - 2)
      if ((section == "" ? key : section "." key) == want) { print value($0); found = 1; exit } }
    END { exit found ? 0 : 1 }' "$1"
}

# Replaces the value of `section.key` on its line, keeping everything else of a hand-edited file.
config_set() { # file key json-value
  local section=${2%%.*} key=${2#*.}
  awk -v section="$section" -v key="$key" -v val="$3" '
    /^[ \t]*"[^"]+"[ \t]*:[ \t]*\{/ { match($0, /"[^"]+"/); current = substr($0, RSTART + 1, RLENGTH - 2) }
    /^[ \t]*\}/ { current = "" }
    current == section && $0 ~ "^[ \t]*\"" key "\"[ \t]*:" {
      comma = ($0 ~ /,[ \t]*$/) ? "," : ""; match($0, /^[ \t]*"[^"]+"[ \t]*:[ \t]*/)
      $0 = substr($0, 1, RLENGTH) val comma; done = 1 }
    { print }
    END { exit done ? 0 : 1 }' "$1"
}

can_prompt() { ((UNATTENDED == 0)) && { : </dev/tty; } 2>/dev/null; }

ask() { # prompt [silent] → REPLY
  local prompt=$1 silent=${2-}
  if [[ -n $silent ]]; then
    IFS= read -r -s -p "$prompt" REPLY </dev/tty
    printf '\n' >/dev/tty
  else
    IFS= read -r -p "$prompt" REPLY </dev/tty
  fi
}

resolve_settings() {
  if [[ -f $CONFIG ]]; then read_settings_from_config; else default_settings; fi
  HTTP_PORT=${HTTP_PORT_FLAG:-$HTTP_PORT} MQTT_PORT=${MQTT_PORT_FLAG:-$MQTT_PORT} MQTTS_PORT=${MQTTS_PORT_FLAG:-$MQTTS_PORT}
  [[ -z $TLS_CHOICE ]] || TLS_MODE=$TLS_CHOICE
  if ((MODE_IS_FRESH)) && can_prompt; then ask_missing_settings; fi
  [[ -n $TLS_MODE ]] || TLS_MODE=self-signed
  STEP_DETAIL="TLS $TLS_MODE"
}

default_settings() {
  HTTP_PORT=$DEFAULT_HTTP_PORT MQTT_PORT=$DEFAULT_MQTT_PORT MQTTS_PORT=$DEFAULT_MQTTS_PORT TLS_MODE=""
  CONFIG_DATA_DIR=$DATA_DIR
}

read_settings_from_config() {
  HTTP_PORT=$(config_get "$CONFIG" http.port || printf '%s' "$DEFAULT_HTTP_PORT")
  MQTT_PORT=$(config_get "$CONFIG" mqtt.port || printf '%s' "$DEFAULT_MQTT_PORT")
  MQTTS_PORT=$(config_get "$CONFIG" mqtt.tls_port || printf '%s' "$DEFAULT_MQTTS_PORT")
  CONFIG_DATA_DIR=$(config_get "$CONFIG" data_dir || printf '%s' "$DATA_DIR")
  local cert
  cert=$(config_get "$CONFIG" mqtt.tls_cert || true)
  if [[ -z $cert ]]; then TLS_MODE=none; else TLS_MODE=kept; fi
}

ask_missing_settings() {
  if [[ -z $ADMIN_PASSWORD ]]; then
    while :; do
      ask "Admin password (8-128 characters; empty = random one-time password): " silent
      [[ -n $REPLY ]] || break
      if ! check_password "$REPLY"; then printf '  %s\n' "$PASSWORD_PROBLEM" >/dev/tty; continue; fi
      local first=$REPLY
      ask "Admin password again: " silent
      if [[ $REPLY == "$first" ]]; then ADMIN_PASSWORD=$first; break; fi
      printf '  the passwords differ\n' >/dev/tty
    done
  fi
  while [[ -z $LICENSE_FILE ]]; do
    ask "License key file (empty = evaluation mode, add it later in Admin → System): "
    [[ -n $REPLY ]] || break
    if [[ -f $REPLY && -r $REPLY && -s $REPLY ]]; then LICENSE_FILE=$(absolute_path "$REPLY"); else printf '  not a readable file: %s\n' "$REPLY" >/dev/tty; fi
  done
  while [[ -z $TLS_MODE ]]; do
    ask "TLS: self-signed, none or CERT.pem,KEY.pem [self-signed]: "
    case ${REPLY:-self-signed} in
      self-signed | none) TLS_MODE=${REPLY:-self-signed} ;;
      *,*) if [[ -r ${REPLY%%,*} && -r ${REPLY#*,} ]]; then TLS_MODE=$REPLY; else printf '  cannot read both files\n' >/dev/tty; fi ;;
      *) printf '  answer self-signed, none or CERT.pem,KEY.pem\n' >/dev/tty ;;
    esac
  done
}

tls_enabled() { [[ $TLS_MODE != none ]]; }
if_tls() { if tls_enabled; then printf '%s' "$1"; fi; }
database_exists() { [[ -f $CONFIG_DATA_DIR/mcs-edge.db ]]; }

# ---------------------------------------------------------------------------------------------
# Install steps
# ---------------------------------------------------------------------------------------------
owner() { [[ -n $ROOT ]] || printf '%s' "$1"; }

create_user() {
  if [[ -n $ROOT ]]; then STEP_DETAIL="skipped under --root (files belong to $(id -un))"; return; fi
  if ! getent group "$SERVICE_USER" >/dev/null; then
    logged groupadd --system "$SERVICE_USER" || fail "groupadd: $LAST_OUTPUT"
    CREATED_GROUP=1
  fi
  if getent passwd "$SERVICE_USER" >/dev/null; then STEP_DETAIL="$SERVICE_USER exists"; return; fi
  logged useradd --system --no-create-home --home-dir /var/lib/mcs-edge --shell /usr/sbin/nologin \
    --gid "$SERVICE_USER" --comment "MCS Edge appliance" "$SERVICE_USER" || fail "useradd: $LAST_OUTPUT"
  CREATED_USER=1
  STEP_DETAIL="created $SERVICE_USER"
}

install_directories() {
  ensure_dir "$OPT_DIR" 0755
  ensure_dir "$ETC_DIR" 0750 "$(owner root:$SERVICE_USER)"
  ensure_dir "$DATA_DIR" 0750 "$(owner $SERVICE_USER:$SERVICE_USER)"
  ensure_dir "$(dirname "$UNIT_FILE")" 0755
  ensure_dir "$(dirname "$WRAPPER")" 0755
}

install_binary() {
  if [[ $MODE == upgrade ]] && ! cmp -s "$RELEASE_DIR/mcs-edge" "$BIN"; then
    install_file "$BIN" "$PREVIOUS_BIN" 0755 "$(owner root:root)"
  fi
  install_file "$RELEASE_DIR/mcs-edge" "$BIN" 0755 "$(owner root:root)"
  STEP_DETAIL=$BIN
}

install_tls() {
  case $TLS_MODE in
    none | kept) STEP_DETAIL=$TLS_MODE; return ;;
    self-signed)
      if [[ -f $TLS_CERT && -f $TLS_KEY ]]; then STEP_DETAIL="kept $TLS_CERT"; else generate_certificate; fi ;;
    *,*)
      ensure_dir "$TLS_DIR" 0750 "$(owner root:$SERVICE_USER)"
      install_file "${TLS_MODE%%,*}" "$TLS_CERT" 0644 "$(owner root:root)"
      install_file "${TLS_MODE#*,}" "$TLS_KEY" 0640 "$(owner root:$SERVICE_USER)"
      STEP_DETAIL="from ${TLS_MODE%%,*}" ;;
  esac
}

host_name() { hostname 2>/dev/null || cat /proc/sys/kernel/hostname; }

host_ipv4_addresses() {
  { hostname -I 2>/dev/null || ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }'; } |
    tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | sort -u || true
}

generate_certificate() {
  local host san ip
  host=$(host_name)
  san="DNS:$host,DNS:localhost,IP:127.0.0.1"
  for ip in $(host_ipv4_addresses); do san+=",IP:$ip"; done
  logged openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$host" \
    -addext "subjectAltName=$san" -addext "extendedKeyUsage=serverAuth" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" || fail "openssl: $LAST_OUTPUT"
  ensure_dir "$TLS_DIR" 0750 "$(owner root:$SERVICE_USER)"
  install_file "$WORK/cert.pem" "$TLS_CERT" 0644 "$(owner root:root)"
  install_file "$WORK/key.pem" "$TLS_KEY" 0640 "$(owner root:$SERVICE_USER)"
  STEP_DETAIL="self-signed for $san"
}

write_config() {
  if [[ -f $CONFIG ]]; then update_config; else new_config; fi
  set_mode_owner "$CONFIG" 0640 "$(owner root:$SERVICE_USER)"
}

new_config() {
  local cert='""' key='""'
  if tls_enabled; then cert=$(json_value cert "$TLS_CERT") key=$(json_value key "$TLS_KEY"); fi
  install_text "$CONFIG" 0640 "$(owner root:$SERVICE_USER)" <<EOF
{
  "data_dir": "$DATA_DIR",
  "http": {
    "host": "0.0.0.0",
    "port": $HTTP_PORT,
    "tls_cert": $cert,
    "tls_key": $key
  },
  "mqtt": {
    "host": "0.0.0.0",
    "port": $MQTT_PORT,
    "tls_port": $MQTTS_PORT,
    "tls_cert": $cert,
    "tls_key": $key
  },
  "log": {
    "level": "info"
  }
}
EOF
  STEP_DETAIL="written $CONFIG"
}

# Applies only what flags changed; a config left as it was keeps its content and mtime.
update_config() {
  local updated=$WORK/config.json setting key value
  cp "$CONFIG" "$updated"
  local settings=("http.port=$HTTP_PORT" "mqtt.port=$MQTT_PORT" "mqtt.tls_port=$MQTTS_PORT")
  if [[ $TLS_MODE != kept ]]; then
    local cert="" key=""
    if tls_enabled; then cert=$TLS_CERT key=$TLS_KEY; fi
    settings+=("http.tls_cert=$cert" "http.tls_key=$key" "mqtt.tls_cert=$cert" "mqtt.tls_key=$key")
  fi
  for setting in "${settings[@]}"; do
    key=${setting%%=*} value=${setting#*=}
    [[ $(config_get "$updated" "$key" || printf '\001') != "$value" ]] || continue
    config_set "$updated" "$key" "$(json_value "$key" "$value")" >"$updated.next" ||
      fail "cannot set $key in $CONFIG (not in the one-setting-per-line layout): set it by hand"
    mv "$updated.next" "$updated"
  done
  if cmp -s "$updated" "$CONFIG"; then STEP_DETAIL="kept $CONFIG"; return; fi
  install_file "$updated" "$CONFIG" 0640 "$(owner root:$SERVICE_USER)"
  STEP_DETAIL="updated $CONFIG"
}

json_value() { if [[ $1 == *port ]]; then printf '%s' "$2"; else printf '"%s"' "$2"; fi; }

check_config_with_binary() {
  logged "$BIN" --config "$CONFIG" check || fail "the appliance rejects $CONFIG: $LAST_OUTPUT"
}

# PKG-2: MCS_ADMIN_PASSWORD only matters at the first start (no users yet); the file goes after it.
write_admin_env() {
  if database_exists; then
    [[ -z $ADMIN_PASSWORD ]] || note "the admin password is not changed on an existing install (Admin → Users)"
    PASSWORD_SOURCE=existing STEP_DETAIL="users exist, unchanged"
    return
  fi
  if [[ -z $ADMIN_PASSWORD && -f $ENV_FILE ]]; then
    PASSWORD_SOURCE=given STEP_DETAIL="kept the password of an earlier run for the first start"
    return
  fi
  if [[ -z $ADMIN_PASSWORD ]]; then
    PASSWORD_SOURCE=random STEP_DETAIL="random one-time password at first start"
    return
  fi
  install_text "$ENV_FILE" 0600 "$(owner root:root)" <<<"MCS_ADMIN_PASSWORD='$ADMIN_PASSWORD'"
  PASSWORD_SOURCE=given STEP_DETAIL="given password for the first start"
}

# LIC-2: a license the appliance would refuse (edited, not the vendor's, another machine's) stops
# the install here, before anything changes, with the binary's own reason.
check_license_file() {
  if [[ -z $LICENSE_FILE ]]; then STEP_DETAIL="none given (evaluation mode, 10 devices, until one is added)"; return; fi
  local verdict
  verdict=$("$RELEASE_DIR/mcs-edge" license check "$LICENSE_FILE" 2>&1 </dev/null) || fail "${verdict#mcs-edge: }"
  STEP_DETAIL=$verdict
}

install_license() {
  if [[ -z $LICENSE_FILE ]]; then STEP_DETAIL="none given (evaluation mode until one is added)"; return; fi
  install_file "$LICENSE_FILE" "$CONFIG_DATA_DIR/license.key" 0640 "$(owner $SERVICE_USER:$SERVICE_USER)"
  STEP_DETAIL="$CONFIG_DATA_DIR/license.key"
}

install_unit() {
  install_file "$RELEASE_DIR/mcs-edge.service" "$UNIT_FILE" 0644 "$(owner root:root)"
  install_ports_dropin
  STEP_DETAIL=$UNIT_FILE
}

# Ports below 1024 need CAP_NET_BIND_SERVICE, which the unit otherwise drops (PKG-3).
install_ports_dropin() {
  local ports=("$HTTP_PORT" "$MQTT_PORT") low=() port
  if tls_enabled; then ports+=("$MQTTS_PORT"); fi
  for port in "${ports[@]}"; do
    if ((port < 1024)); then low+=("$port"); fi
  done
  if ((${#low[@]} == 0)); then
    remove_file "$PORTS_DROPIN"
    [[ ! -d $DROPIN_DIR ]] || rmdir --ignore-fail-on-non-empty "$DROPIN_DIR"
    return
  fi
  ensure_dir "$DROPIN_DIR" 0755
  install_text "$PORTS_DROPIN" 0644 "$(owner root:root)" <<EOF
# Written by install.sh: port(s) ${low[*]} are below 1024 (PKG-3).
[Service]
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
EOF
}

install_wrapper() {
  local run_as="# (--root install: runs as the invoking user)"
  [[ -n $ROOT ]] || run_as="if [ \"\$(id -u)\" = 0 ]; then exec runuser -u $SERVICE_USER -- '$BIN' --config '$CONFIG' \"\$@\"; fi"
  install_text "$WRAPPER" 0755 "$(owner root:root)" <<EOF
#!/bin/sh
# MCS Edge command line with the installed configuration (written by install.sh, PKG-2).
# Run as root it runs as the service user, so files it creates in the data dir stay usable.
$run_as
exec '$BIN' --config '$CONFIG' "\$@"
EOF
  STEP_DETAIL=$WRAPPER
}

# ---------------------------------------------------------------------------------------------
# Service control: systemd, or (--root, no systemd) a background process with a pid file
# ---------------------------------------------------------------------------------------------
service_pid() {
  local pid
  if uses_systemd; then
    pid=$(systemctl show -p MainPID --value "$SERVICE" 2>/dev/null || true)
  else
    pid=$(cat "$PID_FILE" 2>/dev/null || true)
    # A pid file outliving its process (reboot, kill -9) must not name a stranger.
    [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config $CONFIG" || pid=""
  fi
  [[ -n $pid && $pid != 0 ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s' "$pid"
}

service_running() { service_pid >/dev/null; }

service_stop() {
  if uses_systemd; then logged systemctl stop "$SERVICE" || true; return; fi
  local pid
  pid=$(service_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT_S * 10)); do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; log_line "killed $pid after ${STOP_TIMEOUT_S} s"; fi
  rm -f "$PID_FILE"
}

service_start() {
  if uses_systemd; then
    logged systemctl daemon-reload || true
    logged systemctl restart "$SERVICE"
    return
  fi
  mkdir -p "$(dirname "$PID_FILE")" "$SERVICE_LOG_DIR"
  local env=() password_setting=""
  [[ ! -f $ENV_FILE ]] || password_setting=$(sed -n "s/^\(MCS_ADMIN_PASSWORD\)='\(.*\)'\$/\1=\2/p" "$ENV_FILE")
  [[ -z $password_setting ]] || env+=("$password_setting")
  local detach=()
  ! command -v setsid >/dev/null || detach=(setsid)
  (cd "$CONFIG_DATA_DIR" && exec "${detach[@]}" env "${env[@]}" "$BIN" --config "$CONFIG" serve) </dev/null >>"$SERVICE_LOG" 2>&1 &
  printf '%s\n' "$!" >"$PID_FILE"
}

enable_service() {
  uses_systemd || return 0
  logged systemctl daemon-reload || fail "systemctl daemon-reload: $LAST_OUTPUT"
  if ! systemctl is-enabled --quiet "$SERVICE" 2>/dev/null; then
    logged systemctl enable "$SERVICE" || fail "systemctl enable: $LAST_OUTPUT"
    ENABLED_BY_US=1
  fi
}

start_service() {
  if ((NO_START)); then STEP_DETAIL="not started (--no-start)"; return; fi
  enable_service
  if service_running && ((CHANGED == 0)); then STEP_DETAIL="already running, nothing changed"; return; fi
  SERVICE_TOUCHED=1
  service_stop
  service_start || fail "cannot start: $LAST_OUTPUT"
  if uses_systemd; then STEP_DETAIL="systemctl restart $SERVICE"; else STEP_DETAIL="pid $(cat "$PID_FILE"), log $SERVICE_LOG"; fi
}

health_url() {
  local scheme=http
  ! tls_enabled || scheme=https
  printf '%s://127.0.0.1:%s/api/system/health' "$scheme" "$HTTP_PORT"
}

# Polls the health endpoint until it answers ok/degraded with the expected version.
HEALTH_PROBLEM=""
wait_healthy() { # [expected version]
  local expected=${1-} deadline=$((SECONDS + HEALTH_TIMEOUT_S)) body version
  HEALTH_PROBLEM="no answer from $(health_url) within ${HEALTH_TIMEOUT_S} s"
  while ((SECONDS < deadline)); do
    if ! uses_systemd && ! service_running; then
      HEALTH_PROBLEM="the process exited: $(tail -n 3 "$SERVICE_LOG" 2>/dev/null | tr '\n' ' ')"
      return 1
    fi
    if body=$(curl -fsS -k --max-time 2 "$(health_url)" 2>/dev/null) && [[ $body =~ \"status\":\ *\"(ok|degraded)\" ]]; then
      version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' <<<"$body")
      if [[ -z $expected || $version == "$expected" ]]; then
        HEALTH_STATUS=${BASH_REMATCH[1]} HEALTH_VERSION=$version
        HEALTH_PROBLEMS=$(sed -n 's/.*"problems": *\[\([^]]*\)\].*/\1/p' <<<"$body")
        return 0
      fi
      HEALTH_PROBLEM="version $version answers, expected $expected"
    fi
    sleep 0.5
  done
  return 1
}

await_health() {
  if ((NO_START)); then STEP_DETAIL="skipped (--no-start)"; return; fi
  local expected
  expected=$("$BIN" --version </dev/null 2>&1) || fail "the installed binary does not run here: $expected"
  if ! wait_healthy "$expected"; then
    ! uses_systemd || log_line "$(journalctl -u "$SERVICE" -n 30 --no-pager 2>&1 || true)"
    fail "$HEALTH_PROBLEM"
  fi
  STEP_DETAIL="$HEALTH_STATUS, version $HEALTH_VERSION"
}

# The first healthy start has created the admin; the password must not stay on disk.
remove_first_start_env() {
  [[ -f $ENV_FILE ]] && ((NO_START == 0)) && database_exists || return 0
  rm -f "$ENV_FILE"
  log_line "removed $ENV_FILE after the first healthy start"
}

# ---------------------------------------------------------------------------------------------
# Upgrade: database backup while stopped, restored on rollback
# ---------------------------------------------------------------------------------------------
stop_for_upgrade() {
  OLD_VERSION=$INSTALLED_VERSION
  if service_running; then SERVICE_WAS_RUNNING=1 SERVICE_TOUCHED=1; fi
  service_stop
  STEP_DETAIL="version $OLD_VERSION stopped"
}

backup_database() {
  if ! database_exists; then STEP_DETAIL="no database yet"; return; fi
  local dir
  dir=$CONFIG_DATA_DIR/backups/pre-upgrade-$OLD_VERSION-$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$dir"
  set_mode_owner "$dir" 0750 "$(owner $SERVICE_USER:$SERVICE_USER)"
  cp -p "$CONFIG_DATA_DIR"/mcs-edge.db "$dir"/
  local extra
  for extra in "$CONFIG_DATA_DIR"/mcs-edge.db-wal "$CONFIG_DATA_DIR"/mcs-edge.db-shm; do
    [[ ! -f $extra ]] || cp -p "$extra" "$dir"/
  done
  DB_BACKUP_DIR=$dir
  STEP_DETAIL=$dir
}

restore_database() {
  rm -f "$CONFIG_DATA_DIR"/mcs-edge.db "$CONFIG_DATA_DIR"/mcs-edge.db-wal "$CONFIG_DATA_DIR"/mcs-edge.db-shm
  cp -p "$DB_BACKUP_DIR"/mcs-edge.db* "$CONFIG_DATA_DIR"/ && log_line "database restored from $DB_BACKUP_DIR"
  rm -rf "$DB_BACKUP_DIR"
}

# Keeps the backup of this upgrade (and one before it) for a manual downgrade.
prune_upgrade_backups() {
  [[ -n $DB_BACKUP_DIR ]] || return 0
  find "$CONFIG_DATA_DIR/backups" -maxdepth 1 -name 'pre-upgrade-*' -type d -printf '%T@ %p\n' |
    sort -rn | tail -n +3 | cut -d' ' -f2- | xargs -r rm -rf
}

# ---------------------------------------------------------------------------------------------
# Uninstall
# ---------------------------------------------------------------------------------------------
stop_and_disable() {
  if uses_systemd; then
    logged systemctl disable --now "$SERVICE" || true
  else
    service_stop
  fi
  STEP_DETAIL="stopped"
}

remove_program_files() {
  rm -rf "$OPT_DIR" "$UNIT_FILE" "$DROPIN_DIR" "$WRAPPER" "$PID_FILE"
  ! uses_systemd || logged systemctl daemon-reload || true
  STEP_DETAIL="$OPT_DIR, $UNIT_FILE, $WRAPPER"
}

purge_data() {
  if ((PURGE == 0)); then STEP_DETAIL="kept $ETC_DIR and $DATA_DIR (--purge removes them)"; return; fi
  local data_dir=$DATA_DIR
  [[ ! -f $CONFIG ]] || data_dir=$(config_get "$CONFIG" data_dir || printf '%s' "$DATA_DIR")
  rm -rf "$ETC_DIR" "$data_dir" "$DATA_DIR" "$SERVICE_LOG_DIR"
  if [[ -z $ROOT ]] && getent passwd "$SERVICE_USER" >/dev/null; then logged userdel "$SERVICE_USER" || true; fi
  if [[ -z $ROOT ]] && getent group "$SERVICE_USER" >/dev/null; then logged groupdel "$SERVICE_USER" || true; fi
  STEP_DETAIL="removed $ETC_DIR, $data_dir$([[ -n $ROOT ]] || printf ' and user %s' "$SERVICE_USER")"
}

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
print_summary() {
  local address scheme=http
  address=$(host_ipv4_addresses | head -n 1)
  address=${address:-$(host_name)}
  ! tls_enabled || scheme=https
  say ""
  if ((NO_START)); then say "MCS Edge $RELEASE_VERSION is installed (not started: systemctl enable --now $SERVICE)."; else say "MCS Edge $HEALTH_VERSION is running ($HEALTH_STATUS)."; fi
  say "  Admin UI:  $scheme://$address:$HTTP_PORT/$(tls_enabled && [[ $TLS_MODE != *,* ]] && printf '  (self-signed certificate: the browser warns once)')"
  say "  Kiosk:     $scheme://$address:$HTTP_PORT/dashboard  (create a kiosk link in Admin → System)"
  say "  MQTT:      mqtt://$address:$MQTT_PORT$(if_tls "   mqtts://$address:$MQTTS_PORT")"
  [[ -z ${HEALTH_PROBLEMS-} ]] || say "  Problems:  $HEALTH_PROBLEMS"
  say "  Config:    $CONFIG"
  say "  Data:      $CONFIG_DATA_DIR"
  if uses_systemd; then say "  Logs:      journalctl -u $SERVICE"; else say "  Logs:      $SERVICE_LOG"; fi
  say "  Command:   $WRAPPER --help"
  case ${PASSWORD_SOURCE:-existing} in
    given) say "  Admin:     user admin with the password you gave" ;;
    random) say "  Admin:     user admin; its one-time password is in the log ($(uses_systemd && printf 'journalctl -u %s | grep one-time' "$SERVICE" || printf 'grep one-time %s' "$SERVICE_LOG")) and must be changed at first login" ;;
    existing) say "  Admin:     existing users unchanged" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------
prepare() {
  step "platform" check_platform
  step "memory" check_memory
  step "release" fetch_release
  step "checksum" verify_checksum
  step "unpack" unpack_release
  step "existing install" check_existing_install
  MODE_IS_FRESH=1
  ! is_installed || MODE_IS_FRESH=0
  step "settings" resolve_settings
  step "license check" check_license_file
  step "tools" check_tools
  step "disk" check_disk
  step "ports" check_ports
}

install_everything() {
  begin_changes
  step "user" create_user
  step "directories" install_directories
  [[ $MODE != upgrade ]] || { step "stop" stop_for_upgrade; step "database backup" backup_database; }
  if [[ $MODE == install ]] && service_running; then SERVICE_WAS_RUNNING=1 OLD_VERSION=$INSTALLED_VERSION; fi
  step "binary" install_binary
  step "tls" install_tls
  step "config" write_config
  step "config check" check_config_with_binary
  step "admin password" write_admin_env
  step "license" install_license
  step "systemd unit" install_unit
  step "command wrapper" install_wrapper
  step "start" start_service
  step "health" await_health
  CHANGES_STARTED=0 # from here on nothing is undone
  remove_first_start_env
  prune_upgrade_backups
  print_summary
}

uninstall() {
  if [[ ! -e $OPT_DIR && ! -e $UNIT_FILE && ! -e $ETC_DIR && ! -e $DATA_DIR ]]; then
    say "✔ uninstall: MCS Edge is not installed here"
    return
  fi
  step "stop" stop_and_disable
  step "remove program" remove_program_files
  step "config and data" purge_data
}

main() {
  ORIGINAL_ARGS=$(printf '%q ' "$@" | sed -E "s/(--admin-password(=| ))[^ ]+/\1***/")
  parse_args "$@"
  set_paths
  check_privileges
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcs-edge-install.XXXXXX")
  trap on_exit EXIT
  trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
  open_log
  umask 022
  case $MODE in
    uninstall) uninstall ;;
    *) prepare; install_everything ;;
  esac
}

main "$@"
