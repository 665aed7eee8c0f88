#!/usr/bin/env bash
# Pollen's LAN mesh across real network hosts made of network namespaces.
#
#        bridge A (10.99.1.0/24)            bridge B (10.99.2.0/24)
#   h1 .1 ──┐                                          ┌── h4 .4
#           ├── brA ── h3 (.1.3 | .2.3) ── brB ────────┤
#   h2 .2 ──┘       eth0              eth1             └── h5 .5
#
# h3 is the only host on both bridges and does NOT forward IP packets: a
# message from h1 reaches h5 only if h3 carries it as a Pollen node. Both
# bridges live in one "switch" namespace with multicast snooping off; every
# address exists only inside the namespaces, nothing is sent anywhere else.
#
# Usage: POLLEN_BIN=target/debug/pollen tests/netns/lan_mesh.sh [--mode run|sync] [--keep]
#   --mode sync  the topology driven by `pollen serve` / `pollen sync` (phase 1)
#   --mode run   every host runs `pollen run` with mDNS discovery (default)
#   --keep       keep the data directories and logs (path printed at the end)
#   --clean-stale  first delete namespaces left by earlier runs that died
#                (pln<PID>-* whose PID is gone), then go on
# Environment: POLLEN_BIN (required), IDLE_SECONDS (default 10), POLLEN_LOG
# (default info, for `pollen run`'s stderr log), STRICT_NEIGHBOURS=0 (warn,
# not fail, when run.neighbours does not match the topology).
#
# Needs root (skips with exit 0 otherwise). Exit status 0 only if every check
# passed. Needs bash, coreutils, iproute2 (installed with apt-get if missing)
# and python3 (JSON, raw-socket ping, multicast probe).
set -euo pipefail

MODE=run
KEEP=0
CLEAN_STALE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) MODE=${2:-}; shift 2 ;;
        --mode=*) MODE=${1#--mode=}; shift ;;
        --keep) KEEP=1; shift ;;
        --clean-stale) CLEAN_STALE=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$MODE" in run | sync) ;; *) echo "--mode must be run or sync, not '$MODE'" >&2; exit 2 ;; esac

# ---------------------------------------------------------------- output --

FAILS=0
PASSES=0
SUMMARY=()
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
pass() { PASSES=$((PASSES + 1)); printf '    ok: %s\n' "$*"; }
fail() { FAILS=$((FAILS + 1)); printf '    FAIL: %s\n' "$*"; }
warn() { SUMMARY+=("WARNING: $*"); printf '    WARNING: %s\n' "$*"; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }
figure() { SUMMARY+=("$*"); printf '    figure: %s\n' "$*"; }
now_ms() { date +%s%3N; }
ms_since() { echo $(($(now_ms) - $1)); }
# seconds with milliseconds from a millisecond count
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

# ---------------------------------------------------------- preconditions --

if [ -z "${POLLEN_BIN:-}" ]; then
    echo "POLLEN_BIN must name the pollen binary (e.g. POLLEN_BIN=target/debug/pollen)" >&2
    exit 2
fi
if [ ! -x "$POLLEN_BIN" ]; then
    echo "POLLEN_BIN=$POLLEN_BIN is not an executable file" >&2
    exit 2
fi
POLLEN_BIN=$(cd "$(dirname "$POLLEN_BIN")" && pwd)/$(basename "$POLLEN_BIN")

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to create network namespaces (running as uid $(id -u))"
    exit 0
fi

apt_install() {
    echo "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        die "apt-get update failed; install $* by hand"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
        die "apt-get install $* failed"
}
command -v ip >/dev/null 2>&1 || apt_install iproute2
command -v python3 >/dev/null 2>&1 || apt_install python3
command -v ip >/dev/null 2>&1 || die "the ip tool is still missing after installing iproute2"

if [ "$MODE" = run ] && ! "$POLLEN_BIN" run --help >/dev/null 2>&1; then
    echo "this pollen ($POLLEN_BIN) has no 'run' command yet; use --mode sync" >&2
    exit 1
fi

# ------------------------------------------------------------------ names --

# Namespace names carry this run's PID so parallel and leftover runs never
# clash. Interface names live inside the namespaces and need no prefix.
PFX="pln$$-"
NS_SW=${PFX}sw
HOSTS=(h1 h2 h3 h4 h5)
declare -A NS DIR ADDR
for h in "${HOSTS[@]}"; do NS[$h]=$PFX$h; done
ADDR[h1]=10.99.1.1
ADDR[h2]=10.99.1.2
ADDR[h3]=10.99.1.3 # h3 also has H3_ADDR_B on bridge B
H3_ADDR_B=10.99.2.3
ADDR[h4]=10.99.2.4
ADDR[h5]=10.99.2.5
H3_IF_A=eth0 # h3's interface on bridge A; carries h3's multicast route
H3_IF_B=eth1 # h3's interface on bridge B; the one the partition takes down
PORT=7745

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pollen-lan.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
for h in "${HOSTS[@]}"; do DIR[$h]=$WORK/$h; done

CREATED_NS=() # namespaces this run created
PIDS=()       # every background process this run started
declare -A RUN_PID RUN_START RUN_N RUN_LOG

# --------------------------------------------------------------- teardown --

print_logs() {
    local f
    for f in "$LOGS"/*; do
        [ -s "$f" ] || continue
        printf '\n---- tail of %s\n' "${f#"$WORK"/}"
        tail -n 25 "$f" | sed 's/^/    | /'
    done
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    local pid ns alive=()
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid" 2>/dev/null; alive+=("$pid"); }
    done
    for _ in $(seq 50); do
        local any=0
        for pid in "${alive[@]}"; do kill -0 "$pid" 2>/dev/null && any=1; done
        [ $any = 0 ] && break
        sleep 0.1
    done
    for pid in "${alive[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    # Anything else still inside our namespaces was started by us too.
    for ns in "${CREATED_NS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    # Deleting a namespace deletes its interfaces, and with them both ends
    # of every veth pair and the bridges.
    for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    local left
    left=$(ip netns list 2>/dev/null | grep -c "^$PFX" || true)
    [ "$left" = 0 ] || echo "warning: $left namespace(s) named $PFX* are still there" >&2
    if [ $rc != 0 ]; then
        print_logs
    fi
    if [ $KEEP = 1 ] || [ $rc != 0 ]; then
        echo "data and logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'echo "terminated" >&2; exit 143' TERM

clean_stale() {
    local ns pid
    for ns in $(ip netns list | cut -d' ' -f1 | grep -E '^pln[0-9]+-' || true); do
        pid=${ns#pln}
        pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null && continue # its run is still going
        info "removing stale namespace $ns"
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns" || true
    done
}

# --------------------------------------------------------------- topology --

# Runs a command inside host (or switch) namespace $1.
in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

add_ns() {
    ip netns add "$1" || die "cannot create network namespace $1 (as root): check the kernel and capabilities"
    CREATED_NS+=("$1")
    ip -n "$1" link set lo up || die "cannot bring up loopback in $1"
}

# add_port BRIDGE SWITCH_PORT HOST HOST_IF: a veth pair from a bridge port in
# the switch namespace to interface HOST_IF inside HOST's namespace.
add_port() {
    local br=$1 port=$2 h=$3 ifname=$4
    ip -n "$NS_SW" link add "$port" type veth peer name "$ifname" netns "${NS[$h]}" ||
        die "cannot create veth $port <-> ${NS[$h]}:$ifname"
    ip -n "$NS_SW" link set "$port" master "$br" up
}

setup_topology() {
    step "topology: switch namespace with bridges A and B, five hosts (prefix $PFX)"
    add_ns "$NS_SW"
    for h in "${HOSTS[@]}"; do add_ns "${NS[$h]}"; done
    local br
    for br in brA brB; do
        ip -n "$NS_SW" link add "$br" type bridge mcast_snooping 0 || die "cannot create bridge $br"
        ip -n "$NS_SW" link set "$br" up
    done
    add_port brA h1 h1 eth0
    add_port brA h2 h2 eth0
    add_port brA h3a h3 "$H3_IF_A"
    add_port brB h3b h3 "$H3_IF_B"
    add_port brB h4 h4 eth0
    add_port brB h5 h5 eth0

    local h
    for h in h1 h2 h4 h5; do
        ip -n "${NS[$h]}" addr add "${ADDR[$h]}/24" dev eth0
        ip -n "${NS[$h]}" link set eth0 up
        ip -n "${NS[$h]}" route add 224.0.0.0/4 dev eth0
    done
    ip -n "${NS[h3]}" addr add "${ADDR[h3]}/24" dev "$H3_IF_A"
    ip -n "${NS[h3]}" addr add "$H3_ADDR_B/24" dev "$H3_IF_B"
    ip -n "${NS[h3]}" link set "$H3_IF_A" up
    ip -n "${NS[h3]}" link set "$H3_IF_B" up
    # One multicast route on h3, on the side the partition never touches: the
    # kernel deletes a manual route when its interface goes down and does not
    # put it back on link-up. mdns-sd does not need it anyway (it sets
    # IP_MULTICAST_IF for every send); it is for software that does not.
    ip -n "${NS[h3]}" route add 224.0.0.0/4 dev "$H3_IF_A"
    # Routes across h3, so that "h1 cannot reach h5" proves h3 does not
    # forward rather than that nobody knows the way.
    for h in h1 h2; do ip -n "${NS[$h]}" route add 10.99.2.0/24 via "${ADDR[h3]}"; done
    for h in h4 h5; do ip -n "${NS[$h]}" route add 10.99.1.0/24 via "$H3_ADDR_B"; done
    in_ns "${NS[h3]}" sysctl -qw net.ipv4.ip_forward=0
    info "bridge A: h1 ${ADDR[h1]}, h2 ${ADDR[h2]}, h3 ${ADDR[h3]} ($H3_IF_A)"
    info "bridge B: h3 $H3_ADDR_B ($H3_IF_B), h4 ${ADDR[h4]}, h5 ${ADDR[h5]}"
    pass "namespaces, bridges and veths created"
}

PING_PY='
import os, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, tries = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
for seq in range(tries):
    body = b"pollen-lan-ping"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    try:
        s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body, (dst, 0))
    except OSError:
        time.sleep(0.3); continue
    end = time.time() + 1.0
    while (left := end - time.time()) > 0:
        s.settimeout(left)
        try: data, src = s.recvfrom(2048)
        except socket.timeout: break
        ihl = (data[0] & 0x0f) * 4
        t, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if t == 0 and src[0] == dst and rid == ident:
            sys.exit(0)
sys.exit(1)
'
# ping HOST DEST [TRIES]: ICMP echo from inside HOST (no ping binary needed).
ping_from() { in_ns "${NS[$1]}" python3 -c "$PING_PY" "$2" "${3:-3}"; }

expect_reach() {
    if ping_from "$1" "$2"; then pass "$1 reaches $2"; else fail "$1 cannot reach $2"; fi
}
expect_no_reach() {
    if ping_from "$1" "$2" 2; then fail "$1 reaches $2 (it must not)"; else pass "$1 cannot reach $2"; fi
}

check_topology() {
    step "topology: reachability (ICMP echo from inside the hosts)"
    local fwd
    fwd=$(in_ns "${NS[h3]}" cat /proc/sys/net/ipv4/ip_forward)
    if [ "$fwd" = 0 ]; then pass "h3 has IP forwarding off"; else fail "h3 ip_forward=$fwd"; fi
    expect_reach h1 "${ADDR[h2]}"
    expect_reach h1 "${ADDR[h3]}"
    expect_reach h5 "${ADDR[h4]}"
    expect_reach h5 "$H3_ADDR_B"
    expect_no_reach h1 "${ADDR[h5]}"
    expect_no_reach h5 "${ADDR[h1]}"
    expect_no_reach h2 "${ADDR[h4]}"
    # Control: the same ping works once h3 forwards, so the check above
    # really is about h3 not routing.
    in_ns "${NS[h3]}" sysctl -qw net.ipv4.ip_forward=1
    if ping_from h1 "${ADDR[h5]}"; then
        pass "control: with forwarding switched on at h3, h1 reaches h5"
    else
        fail "control: h1 cannot reach h5 even with forwarding on at h3 (routes wrong?)"
    fi
    in_ns "${NS[h3]}" sysctl -qw net.ipv4.ip_forward=0
    expect_no_reach h1 "${ADDR[h5]}"
}

MCAST_PY='
import socket, sys, time
G, PORT = "224.0.0.251", 5353
if sys.argv[1] == "recv":
    secs, addrs = float(sys.argv[2]), sys.argv[3:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", PORT))
    for a in addrs:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(G) + socket.inet_aton(a))
    print("ready", flush=True)
    end = time.time() + secs
    while (left := end - time.time()) > 0:
        s.settimeout(left)
        try: data, src = s.recvfrom(2048)
        except socket.timeout: break
        print(data.decode(errors="replace"), flush=True)
else:
    ifaddr, payload = sys.argv[2], sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    if ifaddr != "-":
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    s.sendto(payload.encode(), (G, PORT))
'

# mDNS's own group and port, before any Pollen runs: each host listens, then
# h1 sends by route, h3 sends once per interface (the way mdns-sd does), h5
# sends by route; each host must hear exactly what its bridge carries.
check_multicast() {
    step "topology: multicast on 224.0.0.251:5353 (what mDNS needs)"
    local h listeners=()
    for h in h1 h2 h4 h5; do
        ip netns exec "${NS[$h]}" python3 -c "$MCAST_PY" recv 2.5 "${ADDR[$h]}" >"$WORK/mcast.$h" &
        listeners+=($!)
    done
    ip netns exec "${NS[h3]}" python3 -c "$MCAST_PY" recv 2.5 "${ADDR[h3]}" "$H3_ADDR_B" >"$WORK/mcast.h3" &
    listeners+=($!)
    PIDS+=("${listeners[@]}")
    local deadline=$(($(now_ms) + 5000))
    for h in "${HOSTS[@]}"; do
        until grep -q ready "$WORK/mcast.$h" 2>/dev/null; do
            [ "$(now_ms)" -lt $deadline ] || die "multicast listener on $h did not start"
            sleep 0.05
        done
    done
    in_ns "${NS[h1]}" python3 -c "$MCAST_PY" send - from-h1 || fail "h1 cannot send multicast"
    in_ns "${NS[h5]}" python3 -c "$MCAST_PY" send - from-h5 || fail "h5 cannot send multicast"
    in_ns "${NS[h3]}" python3 -c "$MCAST_PY" send "${ADDR[h3]}" from-h3-A || fail "h3 cannot send on A"
    in_ns "${NS[h3]}" python3 -c "$MCAST_PY" send "$H3_ADDR_B" from-h3-B || fail "h3 cannot send on B"
    local pid
    for pid in "${listeners[@]}"; do wait "$pid" || fail "a multicast listener failed"; done
    local want
    declare -A expect=(
        [h1]="from-h1 from-h3-A" [h2]="from-h1 from-h3-A" [h3]="from-h1 from-h3-A from-h3-B from-h5"
        [h4]="from-h3-B from-h5" [h5]="from-h3-B from-h5")
    for h in "${HOSTS[@]}"; do
        want=${expect[$h]}
        local got
        got=$(grep -v ready "$WORK/mcast.$h" | sort | tr '\n' ' ' | sed 's/ $//')
        if [ "$got" = "$want" ]; then
            pass "$h hears: $got"
        else
            fail "$h hears '$got', expected '$want'"
        fi
    done
}

declare -A SERVE_PID SERVE_ADDR

# ---------------------------------------------------------- pollen helpers --

# pl HOST ARGS…: `pollen --data DIR ARGS…` inside HOST's namespace. Every
# command runs inside its host, so whatever `run` uses to hear from `send`
# and `status` (files, sockets) is seen as on a real machine.
pl() {
    local h=$1
    shift
    in_ns "${NS[$h]}" "$POLLEN_BIN" --data "${DIR[$h]}" "$@"
}

# json_get PATH: reads JSON on stdin, prints the value at a dotted path
# ("run.sessions"); "null" when absent or null.
json_get() {
    python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else json.dumps(v) if isinstance(v, (dict, list, bool)) else v)
' "$1"
}

# status HOST PATH: one field of `pollen status --json`.
status() {
    local out
    out=$(pl "$1" status --json 2>>"$LOGS/$1.cmd.log") || { echo error; return 0; }
    json_get "$2" <<<"$out"
}

# inbox_count HOST TEXT [exact]: how many inbox messages contain TEXT (or,
# with "exact", have exactly that text from sender h1).
inbox_count() {
    local out
    out=$(pl "$1" inbox --json --limit 1000 2>>"$LOGS/$1.cmd.log") || { echo -1; return 0; }
    python3 -c '
import json, sys
t, exact = sys.argv[1], sys.argv[2] == "exact"
msgs = json.load(sys.stdin)
if exact:
    print(sum(1 for m in msgs if m.get("text") == t and m.get("from") == "h1"))
else:
    print(sum(1 for m in msgs if t in (m.get("text") or "")))
' "$2" "${3:-}" <<<"$out"
}

# poll_until TIMEOUT_S COMMAND…: runs COMMAND every 100 ms until it succeeds.
# Sets WAITED_MS. Returns 1 on timeout.
poll_until() {
    local timeout_ms=$(($1 * 1000)) start
    shift
    start=$(now_ms)
    while :; do
        if "$@"; then
            WAITED_MS=$(ms_since "$start")
            return 0
        fi
        if [ "$(ms_since "$start")" -ge $timeout_ms ]; then
            WAITED_MS=$(ms_since "$start")
            return 1
        fi
        sleep 0.1
    done
}
has_text() { [ "$(inbox_count "$1" "$2" exact)" -ge 1 ]; }
is_int() { [[ $1 =~ ^-?[0-9]+$ ]]; }
field_at_least() { local v; v=$(status "$1" "$2"); is_int "$v" && [ "$v" -ge "$3" ]; }

new_text() {
    echo "lan mesh $1 $(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
}

init_hosts() {
    step "identities: one data directory per host"
    local h
    for h in "${HOSTS[@]}"; do
        pl "$h" init --name "$h" >"$WORK/$h.init.log" 2>&1 || { cat "$WORK/$h.init.log"; die "init on $h failed"; }
    done
    pass "initialised h1..h5 under $WORK"
    # Cards travel by file, as they would by QR code or a shared file.
    local card
    for h in h1 h5; do
        pl "$h" id --json | json_get card >"$WORK/$h.card"
        card=$(cat "$WORK/$h.card")
        [ "${card#pollen1}" != "$card" ] || die "$h's card looks wrong: $card"
    done
    pl h1 contact add "$(cat "$WORK/h5.card")" --alias h5 >/dev/null || die "h1 cannot add h5"
    pl h5 contact add "$(cat "$WORK/h1.card")" --alias h1 >/dev/null || die "h5 cannot add h1"
    # The checks below wait seconds for h5's delivery proofs: they leave at
    # once (by default they wait for their batch; tested in core/node).
    pl h5 receipts immediate >/dev/null || die "h5 cannot choose immediate receipts"
    pass "h1 and h5 exchanged contact cards by file"
}

# The recipient-only checks: h2, h3 and h4 never show any of the texts, and
# h3's files never hold the plaintext.
TEXTS=()
check_unreadable() {
    local t h n fails_before=$FAILS
    for t in "${TEXTS[@]}"; do
        for h in h2 h3 h4; do
            n=$(inbox_count "$h" "$t")
            [ "$n" = 0 ] || fail "$h's inbox shows \"$t\" ($n times)"
        done
        if grep -r -l -F -- "$t" "${DIR[h3]}" >/dev/null 2>&1; then
            fail "h3's data dir holds the plaintext \"$t\": $(grep -r -l -F -- "$t" "${DIR[h3]}" | tr '\n' ' ')"
        fi
    done
    local files
    files=$(find "${DIR[h3]}" -type f -printf '%f ' | sed 's/ $//')
    [ $FAILS = "$fails_before" ] || return 0
    pass "h2, h3, h4 inboxes never show the ${#TEXTS[@]} text(s); h3's files ($files) hold no plaintext"
}

# ---------------------------------------------------- mode sync (phase 1) --

# start_serve HOST: `pollen serve --listen 0.0.0.0:PORT --json` in HOST.
start_serve() {
    local h=$1 out=$LOGS/$1.serve.out
    : >"$out"
    # Background jobs call `ip netns exec` directly, never through a shell
    # function: then $! is pollen's own pid (ip execs it in place).
    ip netns exec "${NS[$h]}" "$POLLEN_BIN" --data "${DIR[$h]}" serve --listen "0.0.0.0:$PORT" --json \
        >"$out" 2>>"$LOGS/$h.serve.log" &
    SERVE_PID[$h]=$!
    PIDS+=($!)
    if ! poll_until 10 first_line_ready "$out"; then
        die "$h: pollen serve printed no address within 10 s"
    fi
    SERVE_ADDR[$h]=$(head -n 1 "$out")
    info "$h serves on ${SERVE_ADDR[$h]} (pid ${SERVE_PID[$h]})"
}
first_line_ready() { [ -s "$1" ] && [ "$(wc -l <"$1")" -ge 1 ]; }

# stop_pid PID WHAT: SIGTERM, wait up to 10 s, report the exit status.
stop_pid() {
    local pid=$1 what=$2 rc=0
    kill -TERM "$pid" 2>/dev/null || true
    if ! poll_until 10 not_running "$pid"; then
        fail "$what did not exit within 10 s of SIGTERM"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    if [ $rc = 0 ]; then pass "$what exited 0 on SIGTERM"; else fail "$what exited $rc on SIGTERM"; fi
}
not_running() { ! kill -0 "$1" 2>/dev/null; }

stop_serve() {
    stop_pid "${SERVE_PID[$1]}" "$1's pollen serve"
    unset "SERVE_PID[$1]"
}

# sync_json FROM ADDR: one `pollen sync ADDR --json` from FROM; prints the
# summary, checks it finished.
sync_to() {
    local h=$1 addr=$2 out
    if ! out=$(pl "$h" sync "$addr" --json 2>>"$LOGS/$h.sync.log"); then
        fail "$h: pollen sync $addr failed: $out"
        return 1
    fi
    local sent recv opened carried proofs_in proofs_out
    sent=$(json_get sent.envelopes <<<"$out")
    recv=$(json_get received.envelopes <<<"$out")
    opened=$(json_get received.opened <<<"$out")
    carried=$(json_get received.carried <<<"$out")
    proofs_out=$(json_get sent.proofs <<<"$out")
    proofs_in=$(json_get received.proofs <<<"$out")
    if [ "$(json_get finished <<<"$out")" = true ]; then
        pass "$h synced with $addr: sent $sent envelope(s) and $proofs_out proof(s), received $recv ($opened opened, $carried to carry) and $proofs_in proof(s)"
    else
        fail "$h's session with $addr did not finish: $out"
    fi
    LAST_SYNC=$out
}

mode_sync() {
    local text t0
    text=$(new_text 1)
    TEXTS+=("$text")

    step "sync 1: h3 serves on bridge A, h1 sends to h5 and syncs with h3"
    start_serve h3
    pl h1 send --to h5 "$text" >/dev/null
    info "h1 sent \"$text\" to h5"
    t0=$(now_ms)
    sync_to h1 "${ADDR[h3]}:$PORT"
    [ "$(json_get sent.envelopes <<<"$LAST_SYNC")" -ge 1 ] || fail "h1 sent no envelope to h3"
    figure "sync mode: h1 -> h3 session took $(secs "$(ms_since "$t0")")"
    sync_to h2 "${ADDR[h3]}:$PORT" # h2 picks up a copy too: it must not read it
    stop_serve h3
    local carried
    carried=$(status h3 carried_for_others)
    if is_int "$carried" && [ "$carried" -ge 1 ]; then pass "h3 carries $carried envelope(s) for others"; else fail "h3 carries nothing"; fi

    step "sync 2: h4 serves, h3 syncs with it (h4 carries, cannot read)"
    start_serve h4
    sync_to h3 "${ADDR[h4]}:$PORT"
    stop_serve h4

    step "sync 3: h5 serves on bridge B; h1 cannot reach it, h3 can"
    start_serve h5
    local rc=0
    pl_timeout 3 h1 sync "${ADDR[h5]}:$PORT" --json || rc=$?
    if [ $rc = 0 ]; then
        fail "h1 synced with h5 directly: the sides are not separated"
    else
        pass "h1 cannot sync with h5 directly (exit $rc$([ $rc = 124 ] && echo ": timed out, no route through h3"))"
    fi
    t0=$(now_ms)
    sync_to h3 "${ADDR[h5]}:$PORT"
    figure "sync mode: h3 -> h5 session took $(secs "$(ms_since "$t0")")"
    stop_serve h5
    carried=$(status h3 carried_for_others)
    if [ "$carried" = 0 ]; then pass "h3 dropped its copy on h5's delivery proof"; else fail "h3 still carries $carried"; fi
    local n
    n=$(inbox_count h5 "$text" exact)
    if [ "$n" = 1 ]; then pass "h5's inbox has the message from h1 exactly once"; else fail "h5's inbox has it $n times"; fi
    pl h5 inbox --json --limit 1000 | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m.get("text") == sys.argv[1]:
        print("    h5 inbox: from=%s status=%s text=%r" % (m.get("from"), m.get("status"), m.get("text")))
' "$text"

    step "sync 4: the delivery proof comes back to h1 through h3"
    start_serve h3
    sync_to h1 "${ADDR[h3]}:$PORT"
    stop_serve h3
    local delivered
    delivered=$(status h1 own_delivered)
    if [ "$delivered" = 1 ]; then
        pass "h1: own_delivered = 1"
    else
        fail "h1: own_delivered = $delivered after the proof's way back"
    fi

    step "sync 5: nobody but h5 reads it"
    check_unreadable
}

# pl_timeout SECONDS HOST ARGS…: pl with a time limit (exits 124 on timeout).
pl_timeout() {
    local s=$1 h=$2
    shift 2
    timeout "$s" ip netns exec "${NS[$h]}" "$POLLEN_BIN" --data "${DIR[$h]}" "$@" \
        >>"$LOGS/$h.sync.log" 2>&1
}

# ----------------------------------------------------- mode run (phase 2) --
# Written against the contract of `pollen run`:
#   pollen --data DIR run [--listen ADDR] [--no-mdns] [--peer ADDR]...
#   first stdout line: the bound address; logs on stderr (POLLEN_LOG);
#   exits 0 on SIGINT/SIGTERM; mDNS service _pollen._tcp;
#   `status --json` has "run": {pid, listen, neighbours, sessions, up_s}
#   (null when no run is active) and top-level own_undelivered,
#   own_delivered, carried_for_others; `send` while run is active is pushed
#   to neighbours within about a second.

# start_run HOST: starts `pollen run` in HOST (mDNS on, no --peer).
start_run() {
    local h=$1 n out
    n=$((${RUN_N[$h]:-0} + 1))
    RUN_N[$h]=$n
    out=$LOGS/$h.run$n.out
    RUN_LOG[$h]=$LOGS/$h.run$n.log
    : >"$out"
    # `ip netns exec` and `env` exec in place: $! is pollen's own pid.
    ip netns exec "${NS[$h]}" env POLLEN_LOG="${POLLEN_LOG:-info}" \
        "$POLLEN_BIN" --data "${DIR[$h]}" run >"$out" 2>"${RUN_LOG[$h]}" &
    RUN_PID[$h]=$!
    RUN_START[$h]=$(now_ms)
    PIDS+=($!)
}

# wait_run_address HOST: waits for the first stdout line (the bound address).
wait_run_address() {
    local h=$1 out=$LOGS/$1.run${RUN_N[$1]}.out
    if ! poll_until 10 first_line_ready "$out"; then
        kill -0 "${RUN_PID[$h]}" 2>/dev/null || die "$h: pollen run exited at start (see ${RUN_LOG[$h]})"
        die "$h: pollen run printed no address within 10 s"
    fi
    info "$h: pollen run (pid ${RUN_PID[$h]}) listens on $(head -n 1 "$out")"
}

# run_status_ok HOST: `status --json` (another process) shows this run.
run_status_ok() {
    local h=$1
    if poll_until 5 run_pid_is "$h" "${RUN_PID[$h]}"; then
        pass "$h: status --json shows run.pid ${RUN_PID[$h]}, listen $(status "$h" run.listen)"
    else
        fail "$h: status --json run.pid is $(status "$h" run.pid), expected ${RUN_PID[$h]}"
    fi
}
run_pid_is() { [ "$(status "$1" run.pid)" = "$2" ]; }

case_start() {
    step "run 1a: pollen run on all five hosts, mDNS on, no --peer"
    local h
    for h in "${HOSTS[@]}"; do start_run "$h"; done
    for h in "${HOSTS[@]}"; do wait_run_address "$h"; done
    for h in "${HOSTS[@]}"; do run_status_ok "$h"; done

    step "run 1b: time from start to the first finished session on each host"
    local pending=("${HOSTS[@]}") still deadline=$(($(now_ms) + 30000)) s
    while [ ${#pending[@]} -gt 0 ] && [ "$(now_ms)" -lt $deadline ]; do
        still=()
        for h in "${pending[@]}"; do
            s=$(status "$h" run.sessions)
            if is_int "$s" && [ "$s" -ge 1 ]; then
                figure "$h: first session $(secs $(($(now_ms) - ${RUN_START[$h]}))) after start"
            else
                still+=("$h")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        sleep 0.1
    done
    for h in "${pending[@]+"${pending[@]}"}"; do
        fail "$h: no finished session within 30 s (neighbours $(status "$h" run.neighbours))"
    done

    # Each host's neighbours are the hosts on its bridge(s): h3 sees four,
    # everyone else two (run.neighbours counts distinct nodes with a good
    # session in the last minute; STRICT_NEIGHBOURS=0 makes a mismatch a
    # warning, for experiments).
    step "run 1c: neighbours settle to the topology (h3: 4, the others: 2)"
    declare -A want=([h1]=2 [h2]=2 [h3]=4 [h4]=2 [h5]=2)
    if poll_until 10 neighbours_match want; then
        pass "neighbours match the topology $(secs "$WAITED_MS") after the first sessions"
    elif [ "${STRICT_NEIGHBOURS:-1}" = 1 ]; then
        fail "neighbours never matched the topology within 10 s"
    else
        warn "neighbours never matched the topology within 10 s (STRICT_NEIGHBOURS=0)"
    fi
    for h in "${HOSTS[@]}"; do
        info "$h: neighbours $(status "$h" run.neighbours) (expected ${want[$h]}), sessions $(status "$h" run.sessions)"
    done
}

# neighbours_match ARRAY_NAME: every host's run.neighbours equals ARRAY[host].
neighbours_match() {
    local -n expected=$1
    local h
    for h in "${HOSTS[@]}"; do
        [ "$(status "$h" run.neighbours)" = "${expected[$h]}" ] || return 1
    done
}

case_direct() {
    step "run 1d: h1 sends h5 a message; h3 carries it across"
    local text t0
    text=$(new_text 1)
    TEXTS+=("$text")
    t0=$(now_ms)
    pl h1 send --to h5 "$text" >/dev/null
    info "h1 sent \"$text\""
    if poll_until 30 has_text h5 "$text"; then
        figure "case 1: h1 -> h5 delivered in $(secs $(($(now_ms) - t0)))"
    else
        fail "h5 did not get the message within 30 s"
    fi
    t0=$(now_ms)
    if poll_until 30 field_at_least h1 own_delivered 1; then
        figure "case 1: delivery proof back at h1 $(secs $(($(now_ms) - t0))) after h5 had it"
    else
        fail "h1's own_delivered did not reach 1 within 30 s (it is $(status h1 own_delivered))"
    fi
    check_unreadable
}

h3_link() { # up|down
    ip -n "${NS[h3]}" link set "$H3_IF_B" "$1"
    if [ "$1" = up ]; then
        # Idempotent: restores h3's multicast route should it have been on
        # this interface (the kernel drops it on link-down).
        ip -n "${NS[h3]}" route replace 224.0.0.0/4 dev "$H3_IF_A"
    fi
    info "h3's $H3_IF_B (bridge B) is $1"
}

case_partition() {
    step "run 2: partition: h3's bridge-B interface down, h1 sends"
    local text t0 n
    text=$(new_text 2)
    TEXTS+=("$text")
    h3_link down
    pl h1 send --to h5 "$text" >/dev/null
    info "h1 sent \"$text\"; waiting 5 s"
    sleep 5
    n=$(inbox_count h5 "$text" exact)
    if [ "$n" = 0 ]; then pass "h5 does not have it while partitioned"; else fail "h5 got it across the partition"; fi
    h3_link up
    t0=$(now_ms)
    if poll_until 60 has_text h5 "$text"; then
        figure "case 2: delivered $(secs $(($(now_ms) - t0))) after link-up (nothing restarted)"
    else
        fail "h5 did not get the message within 60 s of link-up"
    fi
    poll_until 30 field_at_least h1 own_delivered 2 ||
        fail "h1's own_delivered did not reach 2 (it is $(status h1 own_delivered))"
    check_unreadable
}

case_crash() {
    step "run 3: crash: h3 is killed while it carries a message"
    local text t0 n base
    text=$(new_text 3)
    TEXTS+=("$text")
    # Let earlier carried copies go (proofs purge them) so that the count
    # rising below means this message.
    poll_until 10 field_at_most h3 carried_for_others 0 || true
    base=$(status h3 carried_for_others)
    h3_link down
    pl h1 send --to h5 "$text" >/dev/null
    info "h1 sent \"$text\" (h3 carried $base before)"
    t0=$(now_ms)
    if poll_until 30 field_at_least h3 carried_for_others $((base + 1)); then
        info "h3 carries it ($(status h3 carried_for_others) for others) after $(secs $(($(now_ms) - t0)))"
    else
        fail "h3 never took the message (carried_for_others $(status h3 carried_for_others))"
    fi
    kill -KILL "${RUN_PID[h3]}"
    local rc=0
    wait "${RUN_PID[h3]}" 2>/dev/null || rc=$?
    info "killed h3's pollen run with SIGKILL (exit $rc)"
    local after
    after=$(status h3 run)
    if [ "$after" = null ]; then
        pass "h3: status --json shows run: null after the crash"
    else
        fail "h3: status --json still shows a run after SIGKILL: $after"
    fi
    n=$(inbox_count h5 "$text" exact)
    [ "$n" = 0 ] || fail "h5 has the message before h3 came back"
    h3_link up
    start_run h3
    t0=${RUN_START[h3]}
    wait_run_address h3
    if poll_until 60 has_text h5 "$text"; then
        figure "case 3: delivered $(secs $(($(now_ms) - t0))) after h3's restart"
    else
        fail "h5 did not get the message within 60 s of h3's restart"
    fi
    sleep 2 # a duplicate would show up now
    n=$(inbox_count h5 "$text" exact)
    if [ "$n" = 1 ]; then pass "h5 has it exactly once"; else fail "h5 has it $n times"; fi
    poll_until 30 field_at_least h1 own_delivered 3 ||
        fail "h1's own_delivered did not reach 3 (it is $(status h1 own_delivered))"
    check_unreadable
}
field_at_most() { local v; v=$(status "$1" "$2"); is_int "$v" && [ "$v" -le "$3" ]; }

# cpu_ticks PID: utime+stime of a process, in clock ticks.
cpu_ticks() {
    local stat rest
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return 0; }
    rest=${stat##*) } # fields from 3 (state) on; comm may hold spaces
    # shellcheck disable=SC2086
    set -- $rest
    echo $((${12} + ${13}))
}

case_idle_cpu() {
    local secs_idle=${IDLE_SECONDS:-10} hz t0 t1 h start_ticks pct
    step "run 4: idle CPU of pollen run over $secs_idle s"
    hz=$(getconf CLK_TCK)
    declare -A before
    for h in "${HOSTS[@]}"; do before[$h]=$(cpu_ticks "${RUN_PID[$h]}"); done
    t0=$(now_ms)
    sleep "$secs_idle"
    t1=$(now_ms)
    local end_ticks
    for h in "${HOSTS[@]}"; do
        start_ticks=${before[$h]}
        end_ticks=$(cpu_ticks "${RUN_PID[$h]}")
        if [ "$start_ticks" = gone ] || [ "$end_ticks" = gone ]; then
            fail "$h's pollen run (pid ${RUN_PID[$h]}) is gone"
            continue
        fi
        pct=$(python3 -c 'import sys; t,hz,ms=map(int,sys.argv[1:]); print(f"{100*t/hz/(ms/1000):.2f}")' \
            $((end_ticks - start_ticks)) "$hz" $((t1 - t0)))
        if [ "$h" = h1 ]; then
            figure "case 4: h1's idle pollen run used $pct% of one CPU"
            if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 5 else 1)' "$pct"; then
                pass "h1 idle CPU $pct% <= 5%"
            else
                fail "h1 idle CPU $pct% > 5%"
            fi
        else
            info "$h idle: $pct% of one CPU"
        fi
    done
}

stop_all_runs() {
    step "teardown: SIGTERM every pollen run"
    local h
    for h in "${HOSTS[@]}"; do
        [ -n "${RUN_PID[$h]:-}" ] || continue
        stop_pid "${RUN_PID[$h]}" "$h's pollen run"
        unset "RUN_PID[$h]"
    done
}

mode_run() {
    case_start
    case_direct
    case_partition
    case_crash
    case_idle_cpu
    stop_all_runs
}

# -------------------------------------------------------------------- main --

echo "Pollen LAN mesh over network namespaces — mode $MODE"
echo "pollen: $POLLEN_BIN ($("$POLLEN_BIN" --version))"
[ $CLEAN_STALE = 1 ] && { step "removing stale namespaces"; clean_stale; }
stale=$(ip netns list | cut -d' ' -f1 | grep -cE '^pln[0-9]+-' || true)
[ "$stale" = 0 ] || info "note: $stale namespace(s) pln*-* from other runs exist (--clean-stale removes dead ones)"

setup_topology
check_topology
check_multicast
init_hosts
"mode_$MODE"

step "summary"
for line in "${SUMMARY[@]+"${SUMMARY[@]}"}"; do info "$line"; done
if [ $FAILS -ne 0 ]; then
    echo "FAILED: $FAILS check(s) failed, $PASSES passed (mode $MODE)"
    exit 1
fi
echo "PASSED: all $PASSES checks (mode $MODE)"
