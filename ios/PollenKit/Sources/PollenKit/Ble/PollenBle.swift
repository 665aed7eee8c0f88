// The iOS radio for the Pollen core: CBCentralManager (scan for the service
// UUID, so backgrounded phones are found through the overflow area; connect;
// subscribe; write) and CBPeripheralManager (advertise the service UUID and
// the rotating identifier as local name, serve the write and notify
// characteristics). Both restore their state when iOS relaunches the app for
// a Bluetooth event (background modes bluetooth-central and
// bluetooth-peripheral in Info.plist). Thin on purpose: bytes in, bytes out,
// link up, link down, each handed to the node's `ble*` entry points; the
// node's BLE driver decides. UUIDs and sizes come from the core
// (`PollenGatt`, `gattContract()`).

import CoreBluetooth
import Foundation
import os
import PollenBindings

private let log = Logger(subsystem: "org.pollen", category: "ble")

// Sendable: every mutable field is touched only on `queue`.
public final class PollenBle: NSObject, BleRadio, @unchecked Sendable {
    private let node: PollenNode
    private let queue = DispatchQueue(label: "org.pollen.ble")
    private var central: CBCentralManager!
    private var peripheral: CBPeripheralManager!
    private var notifyChar: CBMutableCharacteristic?
    private var seen: [String: CBPeripheral] = [:]
    private var links: [UInt64: Link] = [:]
    private var nextLink: UInt64 = 1
    private var wantScan = false
    private var advert: [String: Any]?

    /// One connection, either role, with its queue of values to send.
    private final class Link {
        let id: UInt64
        let peer: CBPeripheral?
        let subscriber: CBCentral?
        var write: CBCharacteristic?
        var queue: [Data] = []
        var closing = false

        init(id: UInt64, peer: CBPeripheral?, subscriber: CBCentral?) {
            self.id = id
            self.peer = peer
            self.subscriber = subscriber
        }
    }

    public init(node: PollenNode) {
        self.node = node
        super.init()
        central = CBCentralManager(
            delegate: self, queue: queue,
            options: [CBCentralManagerOptionRestoreIdentifierKey: "org.pollen.central"])
        peripheral = CBPeripheralManager(
            delegate: self, queue: queue,
            options: [CBPeripheralManagerOptionRestoreIdentifierKey: "org.pollen.peripheral"])
    }

    // MARK: BleRadio (called on the core's thread: hop onto our queue)

    public func startScan() {
        queue.async {
            self.wantScan = true
            self.scanIfReady()
        }
    }

    public func stopScan() {
        queue.async {
            self.wantScan = false
            if self.central.state == .poweredOn { self.central.stopScan() }
        }
    }

    public func advertise(serviceData: Data, localName: String, intervalMs: UInt32) {
        // iOS cannot advertise service data: the identifier rides in the
        // local name, which iOS drops in the background. The service UUID
        // then sits in Apple's overflow area, which only an iOS scan for it
        // finds; Android phones are reached because this iPhone connects to
        // them (ios/README.md, "Bluetooth in the background").
        queue.async {
            self.advert = [
                CBAdvertisementDataServiceUUIDsKey: [PollenGatt.service],
                CBAdvertisementDataLocalNameKey: localName,
            ]
            self.advertiseIfReady()
        }
    }

    public func stopAdvertising() {
        queue.async {
            self.advert = nil
            self.peripheral.stopAdvertising()
        }
    }

    public func connect(handle: String) {
        queue.async {
            guard let p = self.seen[handle], self.central.state == .poweredOn else {
                self.tell { try self.node.bleConnectFailed(handle: handle) }
                return
            }
            p.delegate = self
            self.central.connect(p, options: nil)
        }
    }

    public func disconnect(linkId: UInt64) {
        queue.async {
            guard let link = self.links[linkId] else { return }
            link.closing = true
            self.pump(link)
        }
    }

    public func send(linkId: UInt64, value: Data) {
        queue.async {
            guard let link = self.links[linkId] else { return }
            link.queue.append(value)
            self.pump(link)
        }
    }

    /// Tells the node: its `ble*` entry points never block; a refused call (a
    /// value over the contract's size, a node shut down) is logged, never
    /// thrown into CoreBluetooth's queue.
    private func tell(_ call: () throws -> Void) {
        do {
            try call()
        } catch {
            log.warning("BLE call refused: \(String(describing: error), privacy: .public)")
        }
    }

    // MARK: Sending

    /// Sends what the platform takes now; the rest waits for "ready".
    private func pump(_ link: Link) {
        while let value = link.queue.first {
            var sent = false
            if let p = link.peer, let w = link.write {
                if p.canSendWriteWithoutResponse {
                    p.writeValue(value, for: w, type: .withoutResponse)
                    sent = true
                }
            } else if let c = link.subscriber, let n = notifyChar {
                sent = peripheral.updateValue(value, for: n, onSubscribedCentrals: [c])
            }
            guard sent else { return }
            link.queue.removeFirst()
            tell { try node.bleReady(linkId: link.id, sent: 1) }
        }
        if link.closing { close(link) }
    }

    private func close(_ link: Link) {
        links[link.id] = nil
        if let p = link.peer {
            central.cancelPeripheralConnection(p)
        }
        // A peripheral cannot hang up on a central: stop serving this link.
        tell { try node.bleLinkDown(linkId: link.id) }
    }

    private func link(of p: CBPeripheral) -> Link? {
        links.values.first { $0.peer?.identifier == p.identifier }
    }

    private func link(of c: CBCentral) -> Link? {
        links.values.first { $0.subscriber?.identifier == c.identifier }
    }

    private func newLinkId() -> UInt64 {
        defer { nextLink += 1 }
        return nextLink
    }

    private func scanIfReady() {
        guard wantScan, central.state == .poweredOn else { return }
        central.scanForPeripherals(
            withServices: [PollenGatt.service],
            options: [CBCentralManagerScanOptionAllowDuplicatesKey: true])
    }

    private func advertiseIfReady() {
        guard let a = advert, peripheral.state == .poweredOn else { return }
        peripheral.stopAdvertising()
        peripheral.startAdvertising(a)
    }
}

// MARK: Central role

extension PollenBle: CBCentralManagerDelegate {
    public func centralManagerDidUpdateState(_ central: CBCentralManager) {
        if central.state == .poweredOn {
            scanIfReady()
        } else {
            for link in links.values where link.peer != nil {
                links[link.id] = nil
                tell { try node.bleLinkDown(linkId: link.id) }
            }
        }
    }

    public func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        // Relaunched by iOS: links did not survive; the core reconnects.
        let restored = dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? []
        for p in restored {
            central.cancelPeripheralConnection(p)
        }
    }

    public func centralManager(
        _ central: CBCentralManager, didDiscover peripheral: CBPeripheral,
        advertisementData: [String: Any], rssi RSSI: NSNumber
    ) {
        let handle = peripheral.identifier.uuidString
        seen[handle] = peripheral
        let serviceData = (advertisementData[CBAdvertisementDataServiceDataKey] as? [CBUUID: Data])?[PollenGatt.service]
        let name = advertisementData[CBAdvertisementDataLocalNameKey] as? String
        tell { try node.bleAdvertisement(handle: handle, serviceData: serviceData, localName: name) }
    }

    public func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        peripheral.discoverServices([PollenGatt.service])
    }

    public func centralManager(
        _ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?
    ) {
        tell { try node.bleConnectFailed(handle: peripheral.identifier.uuidString) }
    }

    public func centralManager(
        _ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?
    ) {
        if let link = link(of: peripheral) {
            links[link.id] = nil
            tell { try node.bleLinkDown(linkId: link.id) }
        } else {
            tell { try node.bleConnectFailed(handle: peripheral.identifier.uuidString) }
        }
    }
}

extension PollenBle: CBPeripheralDelegate {
    public func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        guard error == nil, let s = peripheral.services?.first(where: { $0.uuid == PollenGatt.service }) else {
            central.cancelPeripheralConnection(peripheral)
            return
        }
        peripheral.discoverCharacteristics([PollenGatt.write, PollenGatt.notify], for: s)
    }

    public func peripheral(
        _ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?
    ) {
        let chars = service.characteristics ?? []
        guard error == nil, chars.contains(where: { $0.uuid == PollenGatt.write }),
            let n = chars.first(where: { $0.uuid == PollenGatt.notify })
        else {
            central.cancelPeripheralConnection(peripheral)
            return
        }
        peripheral.setNotifyValue(true, for: n)
    }

    public func peripheral(
        _ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic,
        error: Error?
    ) {
        guard error == nil, characteristic.isNotifying, link(of: peripheral) == nil else {
            if error != nil { central.cancelPeripheralConnection(peripheral) }
            return
        }
        let link = Link(id: newLinkId(), peer: peripheral, subscriber: nil)
        link.write = characteristic.service?.characteristics?.first { $0.uuid == PollenGatt.write }
        links[link.id] = link
        // iOS negotiates the MTU itself; the write size tells what it got.
        let mtu = peripheral.maximumWriteValueLength(for: .withoutResponse) + Int(PollenGatt.contract.attHeader)
        tell {
            try node.bleLinkUp(
                linkId: link.id, handle: peripheral.identifier.uuidString, central: true,
                attMtu: UInt16(clamping: mtu))
        }
    }

    public func peripheral(
        _ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?
    ) {
        guard error == nil, characteristic.uuid == PollenGatt.notify,
            let link = link(of: peripheral), let value = characteristic.value
        else { return }
        tell { try node.bleReceived(linkId: link.id, value: value) }
    }

    public func peripheralIsReady(toSendWriteWithoutResponse peripheral: CBPeripheral) {
        if let link = link(of: peripheral) { pump(link) }
    }
}

// MARK: Peripheral role

extension PollenBle: CBPeripheralManagerDelegate {
    public func peripheralManagerDidUpdateState(_ peripheral: CBPeripheralManager) {
        guard peripheral.state == .poweredOn else {
            for link in links.values where link.subscriber != nil {
                links[link.id] = nil
                tell { try node.bleLinkDown(linkId: link.id) }
            }
            return
        }
        if notifyChar == nil {
            let write = CBMutableCharacteristic(
                type: PollenGatt.write, properties: [.writeWithoutResponse, .write],
                value: nil, permissions: [.writeable])
            let notify = CBMutableCharacteristic(
                type: PollenGatt.notify, properties: [.notify], value: nil, permissions: [])
            let service = CBMutableService(type: PollenGatt.service, primary: true)
            service.characteristics = [write, notify]
            peripheral.add(service)
            notifyChar = notify
        }
        advertiseIfReady()
    }

    public func peripheralManager(_ peripheral: CBPeripheralManager, willRestoreState dict: [String: Any]) {
        let services = dict[CBPeripheralManagerRestoredStateServicesKey] as? [CBMutableService] ?? []
        notifyChar = services.first { $0.uuid == PollenGatt.service }?
            .characteristics?.first { $0.uuid == PollenGatt.notify } as? CBMutableCharacteristic
    }

    public func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral,
        didSubscribeTo characteristic: CBCharacteristic
    ) {
        guard characteristic.uuid == PollenGatt.notify, link(of: central) == nil else { return }
        let link = Link(id: newLinkId(), peer: nil, subscriber: central)
        links[link.id] = link
        let mtu = central.maximumUpdateValueLength + Int(PollenGatt.contract.attHeader)
        tell {
            try node.bleLinkUp(
                linkId: link.id, handle: central.identifier.uuidString, central: false,
                attMtu: UInt16(clamping: mtu))
        }
    }

    public func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral,
        didUnsubscribeFrom characteristic: CBCharacteristic
    ) {
        if let link = link(of: central) {
            links[link.id] = nil
            tell { try node.bleLinkDown(linkId: link.id) }
        }
    }

    public func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveWrite requests: [CBATTRequest]) {
        for request in requests {
            guard request.characteristic.uuid == PollenGatt.write, request.offset == 0,
                let link = link(of: request.central), let value = request.value
            else {
                peripheral.respond(to: request, withResult: .requestNotSupported)
                return
            }
            tell { try node.bleReceived(linkId: link.id, value: value) }
        }
        if let first = requests.first {
            peripheral.respond(to: first, withResult: .success)
        }
    }

    public func peripheralManagerIsReady(toUpdateSubscribers peripheral: CBPeripheralManager) {
        for link in links.values where link.subscriber != nil {
            pump(link)
        }
    }
}
