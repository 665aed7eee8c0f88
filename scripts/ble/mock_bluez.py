#!/usr/bin/python3
"""Drives a python-dbusmock BlueZ (template bluez5) on the bus in
DBUS_SYSTEM_BUS_ADDRESS: adds an adapter, a Pollen node advertising the
service UUID and service data, and an unrelated device.

Usage: mock_bluez.py adapter | pollen-device ADDR ID_HEX | other-device ADDR
"""
import sys

import dbus

SERVICE = "7a3f0001-9c4e-4b8e-8f1d-5c0a6b2e9d41"
MOCK = "org.bluez.Mock"

bus = dbus.SystemBus()
mock = dbus.Interface(bus.get_object("org.bluez", "/"), MOCK)
cmd = sys.argv[1]
if cmd == "adapter":
    print(mock.AddAdapter("hci0", "pollen-test"))
elif cmd == "pollen-device":
    addr, id_hex = sys.argv[2], sys.argv[3]
    path = mock.AddDevice("hci0", addr, "")
    obj = bus.get_object("org.bluez", path)
    # Properties.Set emits PropertiesChanged for each (dbusmock's
    # UpdateProperties cannot wrap a dictionary for its signal).
    props = dbus.Interface(obj, "org.freedesktop.DBus.Properties")
    data = bytes([1]) + bytes.fromhex(id_hex)
    props.Set("org.bluez.Device1", "UUIDs", dbus.Array([SERVICE], signature="s", variant_level=1))
    props.Set("org.bluez.Device1", "ServiceData", dbus.Dictionary(
        {SERVICE: dbus.Array([dbus.Byte(b) for b in data], signature="y", variant_level=1)},
        signature="sv", variant_level=1))
    props.Set("org.bluez.Device1", "RSSI", dbus.Int16(-60, variant_level=1))
    print(path)
elif cmd == "other-device":
    print(mock.AddDevice("hci0", sys.argv[2], "Kitchen speaker"))
else:
    sys.exit(f"unknown command {cmd}")
