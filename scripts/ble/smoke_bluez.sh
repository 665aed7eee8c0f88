#!/usr/bin/env bash
# Smoke test of the btleplug layer against a mocked BlueZ on a private
# D-Bus (python3-dbusmock, template bluez5). The mock has no GATT, so this
# checks the layer's edges, not a sync: clear errors without D-Bus, without
# BlueZ and without an adapter; with one, `pollen ble scan` finds the adapter
# and the mock Pollen node with its advertised identifier, and
# `pollen run --ble` hears it, tries to connect, reports why that failed,
# and stops cleanly on SIGTERM. Tears everything down, also on failure.
#
# Usage: scripts/ble/smoke_bluez.sh PATH/TO/pollen   (built with --features ble)
set -uo pipefail
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
pass=0
fail=0
check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok: $name"
        pass=$((pass + 1))
    else
        echo "FAILED: $name"
        fail=$((fail + 1))
    fi
}
# A command's exit code and combined output.
run_pollen() {
    local out=$1
    shift
    "$BIN" "$@" >"$out" 2>&1
    echo $?
}
clear_error() { # file, exit code, expected text
    [ "$2" = 1 ] && grep -q "$3" "$1" && ! grep -q panicked "$1" || { cat "$1"; false; }
}

export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$WORK/nonexistent"
rc=$(run_pollen "$WORK/nodbus" ble scan --seconds 1)
check "no D-Bus: a clear error, no panic" clear_error "$WORK/nodbus" "$rc" "cannot reach the Bluetooth service"

dbus-daemon --config-file=/usr/share/dbus-1/session.conf --address="unix:path=$WORK/bus" --nofork --nopidfile &
PIDS+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$WORK/bus"
for _ in $(seq 50); do [ -S "$WORK/bus" ] && break; sleep 0.1; done

rc=$(run_pollen "$WORK/nobluez" ble scan --seconds 1)
check "D-Bus without BlueZ: a clear error, no panic" clear_error "$WORK/nobluez" "$rc" "cannot reach the Bluetooth service"

/usr/bin/python3 -m dbusmock --system --template bluez5 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    dbus-send --system --dest=org.bluez --print-reply / org.freedesktop.DBus.Introspectable.Introspect >/dev/null 2>&1 && break
    sleep 0.1
done

rc=$(run_pollen "$WORK/noadapter" ble scan --seconds 1)
check "BlueZ without an adapter: a clear error, no panic" clear_error "$WORK/noadapter" "$rc" "no Bluetooth adapter found"

/usr/bin/python3 "$HERE/mock_bluez.py" adapter >/dev/null
/usr/bin/python3 "$HERE/mock_bluez.py" pollen-device 11:22:33:44:55:66 ffffffffffffff01 >/dev/null
/usr/bin/python3 "$HERE/mock_bluez.py" other-device AA:BB:CC:DD:EE:FF >/dev/null
rc=$(run_pollen "$WORK/scan.json" ble scan --seconds 1 --json)
scan_ok() {
    [ "$rc" = 0 ] && /usr/bin/python3 - "$WORK/scan.json" <<'PY' || { cat "$WORK/scan.json"; false; }
import json, sys
v = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert "hci0" in v["adapter"] or v["adapter"], v
pollen = [d for d in v["devices"] if d["pollen"]]
others = [d for d in v["devices"] if not d["pollen"]]
assert len(pollen) == 1 and pollen[0]["advert_id"] == "ffffffffffffff01", v
assert "11_22_33_44_55_66" in pollen[0]["handle"] or "11:22:33:44:55:66" in pollen[0]["handle"], v
assert all(d["advert_id"] is None for d in others), v
PY
}
check "scan: finds the adapter and the mock Pollen node with its identifier" scan_ok

# pollen run --ble: hears a Pollen node that appears while it runs. The mock
# identifiers are the highest possible, so this node (random identifier,
# lower but for a 2^-56 chance) is the one that connects, at once.
DATA="$WORK/node"
"$BIN" --data "$DATA" init --name Smoke >/dev/null
POLLEN_LOG=pollen_runtime=debug,pollen_node=debug,pollen=info "$BIN" --data "$DATA" run --ble --no-mdns --listen 127.0.0.1:0 >"$WORK/run.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
sleep 1.5
/usr/bin/python3 "$HERE/mock_bluez.py" pollen-device 22:33:44:55:66:77 ffffffffffffff02 >/dev/null
# The mock connects but never resolves services: the 10 s set-up timeout fails it.
for _ in $(seq 150); do grep -q "BLE connection failed" "$WORK/run.log" && break; sleep 0.1; done
kill -TERM "$RUN"
wait "$RUN"
rc=$?
run_ok() {
    [ "$rc" = 0 ] && grep -q "BLE adapter" "$WORK/run.log" && grep -q "Pollen neighbour advertising" "$WORK/run.log" \
        && grep -q "BLE connection failed" "$WORK/run.log" && ! grep -q panicked "$WORK/run.log" \
        || { cat "$WORK/run.log"; false; }
}
check "run --ble: hears the node, reports the failed connection, stops on SIGTERM" run_ok

# Stopped while a connection is still being set up: no panic, exit 0.
POLLEN_LOG=pollen_runtime=debug,pollen_node=debug,pollen=info "$BIN" --data "$DATA" run --ble --no-mdns --listen 127.0.0.1:0 >"$WORK/run2.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
for _ in $(seq 50); do grep -q "Pollen neighbour advertising" "$WORK/run2.log" && break; sleep 0.1; done
sleep 1
kill -TERM "$RUN"
wait "$RUN"
rc=$?
stop_ok() {
    [ "$rc" = 0 ] && grep -q "Pollen neighbour advertising" "$WORK/run2.log" && ! grep -q panicked "$WORK/run2.log" \
        || { cat "$WORK/run2.log"; false; }
}
check "run --ble: stopped mid-connection, exits cleanly" stop_ok

echo "ble smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]
