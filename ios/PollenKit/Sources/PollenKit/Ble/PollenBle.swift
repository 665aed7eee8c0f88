// The iOS radio for the Pollen core: CBCentralManager (scan for the service
// UUID, so backgrounded phones are found through the overflow area; connect;
// subscribe; write) and CBPeripheralManager (advertise the service UUID and
// the rotating identifier as local name, serve the write and notify
// characteristics). Both restore their state when iOS relaunches the app for
// a Bluetooth event (background modes bluetooth-central and
// bluetooth-peripheral in Info.plist). Thin on purpose: bytes in, bytes out,
// link up, link down, each handed to the core's `BleBridge`, which keeps the
// link table (ids, values waiting for room in CoreBluetooth, when to hang up)
// and tells the node's BLE driver, which decides. This file keeps only
// CoreBluetooth's objects by handle. UUIDs and sizes come from the core
// (`PollenGatt`, `gattContract()`).

import CoreBluetooth
import Foundation
import PollenBindings

// Sendable: every mutable field is touched only on `queue`.
public final class PollenBle: NSObject, BleRadio, @unchecked Sendable {
    private let queue = DispatchQueue(label: "org.pollen.ble")
    private var central: CBCentralManager!
    private var peripheral: CBPeripheralManager!
    private var notifyChar: CBMutableCharacteristic?
    /// The link table, wired to the node (it logs what the node refuses).
    private let links: BleBridge
    /// Peripherals heard (central role) and subscribed centrals (peripheral role), by handle.
    private var seen: [String: CBPeripheral] = [:]
    private var subscribers: [String: CBCentral] = [:]
    private var wantScan = false
    private var advert: [String: Any]?

    public init(node: PollenNode) {
        links = BleBridge(node: node)
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
                return self.links.connectFailed(handle: handle)
            }
            p.delegate = self
            self.central.connect(p, options: nil)
        }
    }

    public func disconnect(linkId: UInt64) {
        queue.async {
            self.links.hangUp(linkId: linkId)
            self.pump(linkId)
        }
    }

    public func send(linkId: UInt64, value: Data) {
        queue.async {
            if self.links.queue(linkId: linkId, value: value) { self.pump(linkId) }
        }
    }

    /// Drains the link into CoreBluetooth until it has no room ("ready"
    /// comes later): the table decides, calling back `push` and `cancel`.
    private func pump(_ id: UInt64) {
        links.pump(linkId: id, stack: self)
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

// MARK: The stack, as the table drives it (on `queue`)

extension PollenBle: BleStack {
    /// Hands one value to CoreBluetooth; false when it has no room now.
    public func push(handle: String, central: Bool, value: Data) -> Bool {
        if central {
            guard let p = seen[handle], p.canSendWriteWithoutResponse,
                let w = p.services?.first(where: { $0.uuid == PollenGatt.service })?
                    .characteristics?.first(where: { $0.uuid == PollenGatt.write })
            else { return false }
            p.writeValue(value, for: w, type: .withoutResponse)
            return true
        }
        guard let c = subscribers[handle], let n = notifyChar else { return false }
        return peripheral.updateValue(value, for: n, onSubscribedCentrals: [c])
    }

    /// A central hangs up (the link goes down in didDisconnect).
    public func cancel(handle: String) -> Bool {
        guard let p = seen[handle] else { return false }
        central.cancelPeripheralConnection(p)
        return true
    }
}

// MARK: Central role

extension PollenBle: CBCentralManagerDelegate {
    public func centralManagerDidUpdateState(_ central: CBCentralManager) {
        if central.state == .poweredOn {
            scanIfReady()
        } else {
            links.goneAll(central: true)
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
        links.advertisement(handle: handle, serviceData: serviceData, localName: name)
    }

    public func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        peripheral.discoverServices([PollenGatt.service])
    }

    public func centralManager(
        _ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?
    ) {
        links.connectFailed(handle: peripheral.identifier.uuidString)
    }

    public func centralManager(
        _ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?
    ) {
        links.disconnected(handle: peripheral.identifier.uuidString, central: true)
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
        guard error == nil else { return central.cancelPeripheralConnection(peripheral) }
        // iOS negotiates the MTU itself; the write size tells what it got.
        let room = UInt32(clamping: peripheral.maximumWriteValueLength(for: .withoutResponse))
        if characteristic.isNotifying {
            links.up(handle: peripheral.identifier.uuidString, central: true, maxValue: room)
        }
    }

    public func peripheral(
        _ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?
    ) {
        guard error == nil, characteristic.uuid == PollenGatt.notify, let value = characteristic.value else { return }
        links.received(handle: peripheral.identifier.uuidString, central: true, value: value)
    }

    public func peripheralIsReady(toSendWriteWithoutResponse peripheral: CBPeripheral) {
        if let id = links.find(handle: peripheral.identifier.uuidString, central: true) { pump(id) }
    }
}

// MARK: Peripheral role

extension PollenBle: CBPeripheralManagerDelegate {
    public func peripheralManagerDidUpdateState(_ peripheral: CBPeripheralManager) {
        guard peripheral.state == .poweredOn else {
            return links.goneAll(central: false)
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
        let handle = central.identifier.uuidString
        let room = UInt32(clamping: central.maximumUpdateValueLength)
        guard characteristic.uuid == PollenGatt.notify else { return }
        // Kept before the node hears of the link: it may send at once.
        subscribers[handle] = central
        links.up(handle: handle, central: false, maxValue: room)
    }

    public func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral,
        didUnsubscribeFrom characteristic: CBCharacteristic
    ) {
        let handle = central.identifier.uuidString
        subscribers[handle] = nil
        links.disconnected(handle: handle, central: false)
    }

    public func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveWrite requests: [CBATTRequest]) {
        for request in requests {
            guard request.characteristic.uuid == PollenGatt.write, request.offset == 0, let value = request.value,
                links.received(handle: request.central.identifier.uuidString, central: false, value: value)
            else {
                return peripheral.respond(to: request, withResult: .requestNotSupported)
            }
        }
        if let first = requests.first {
            peripheral.respond(to: first, withResult: .success)
        }
    }

    public func peripheralManagerIsReady(toUpdateSubscribers peripheral: CBPeripheralManager) {
        links.ids(central: false).forEach(pump)
    }
}
