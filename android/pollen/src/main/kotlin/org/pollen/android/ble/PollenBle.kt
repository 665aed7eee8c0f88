package org.pollen.android.ble

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothGattServer
import android.bluetooth.BluetoothGattServerCallback
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.BluetoothStatusCodes
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Context
import android.os.Build
import android.os.ParcelUuid
import android.util.Log
import uniffi.pollen.BleLinkPeer
import uniffi.pollen.BleLinks
import uniffi.pollen.BleStep

/**
 * The Android radio for the Pollen core: advertiser, scanner, GATT server
 * (peripheral role) and GATT clients (central role). Thin on purpose: it
 * moves bytes and reports links; [BleCore] decides everything, and the link
 * table (ids, values waiting for the stack, when to hang up) is the core's
 * [BleLinks]: this class keeps only the platform's objects by address. Runs inside
 * [org.pollen.android.PollenService] (a `connectedDevice` foreground
 * service), which holds the Bluetooth permissions.
 */
@SuppressLint("MissingPermission")
class PollenBle(private val context: Context, private val core: BleCore) : BleRadio {
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private val adapter get() = manager?.adapter
    private val lock = Any()
    private var gattServer: BluetoothGattServer? = null

    /** The GATT server while started (diagnostics and tests). */
    val server: BluetoothGattServer? get() = synchronized(lock) { gattServer }
    private var notifyChar: BluetoothGattCharacteristic? = null
    private var advertising: AdvertiseCallback? = null
    private var scanning = false

    /** The `AdvertiseSettings` mode last asked of Android (from the core's interval for its power mode). */
    @Volatile
    var advertiseMode: Int? = null
        private set
    private val links = BleLinks()

    /** By address: devices heard, our GATT clients (central role), subscribed centrals (peripheral role). */
    private val seen = HashMap<String, BluetoothDevice>()
    private val clients = HashMap<String, BluetoothGatt>()
    private val centrals = HashMap<String, BluetoothDevice>()

    /** Opens the GATT server so centrals can connect; the core then asks for scanning and advertising. */
    fun start(): Boolean {
        val m = manager ?: return false
        if (adapter?.isEnabled != true) return false
        return try {
            val gattServer = m.openGattServer(context, serverCallback) ?: return false
            val service = BluetoothGattService(PollenGatt.SERVICE, BluetoothGattService.SERVICE_TYPE_PRIMARY)
            val write = BluetoothGattCharacteristic(
                PollenGatt.WRITE,
                BluetoothGattCharacteristic.PROPERTY_WRITE_NO_RESPONSE or BluetoothGattCharacteristic.PROPERTY_WRITE,
                BluetoothGattCharacteristic.PERMISSION_WRITE,
            )
            val notify = BluetoothGattCharacteristic(
                PollenGatt.NOTIFY,
                BluetoothGattCharacteristic.PROPERTY_NOTIFY,
                0,
            )
            notify.addDescriptor(
                BluetoothGattDescriptor(PollenGatt.CCCD, BluetoothGattDescriptor.PERMISSION_WRITE),
            )
            service.addCharacteristic(write)
            service.addCharacteristic(notify)
            gattServer.addService(service)
            synchronized(lock) {
                this.gattServer = gattServer
                notifyChar = notify
            }
            true
        } catch (e: SecurityException) {
            Log.w(TAG, "no Bluetooth permission", e)
            false
        }
    }

    /** Stops everything; every open link is reported down. */
    fun stop() {
        stopScan()
        stopAdvertising()
        val (gatts, devices) = synchronized(lock) {
            (clients.values.toList() to centrals.values.toList()).also { clients.clear(); centrals.clear() }
        }
        gatts.forEach { runCatching { it.close() } }
        devices.forEach { runCatching { server?.cancelConnection(it) } }
        for (id in links.goneAll(null)) core.bleLinkDown(id)
        synchronized(lock) {
            runCatching { gattServer?.close() }
            gattServer = null
        }
    }

    override fun startScan() {
        val scanner = adapter?.bluetoothLeScanner ?: return
        val filter = ScanFilter.Builder().setServiceUuid(ParcelUuid(PollenGatt.SERVICE)).build()
        // The core duty-cycles scanning itself, so each scan runs flat out.
        val settings = ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY).build()
        try {
            scanner.startScan(listOf(filter), settings, scanCallback)
            scanning = true
        } catch (e: SecurityException) {
            Log.w(TAG, "scan not permitted", e)
        }
    }

    override fun stopScan() {
        if (!scanning) return
        scanning = false
        runCatching { adapter?.bluetoothLeScanner?.stopScan(scanCallback) }
    }

    override fun advertise(serviceData: ByteArray, localName: String, intervalMs: UInt) {
        stopAdvertising()
        val advertiser = adapter?.bluetoothLeAdvertiser ?: return
        val mode = when {
            intervalMs <= 250u -> AdvertiseSettings.ADVERTISE_MODE_BALANCED
            else -> AdvertiseSettings.ADVERTISE_MODE_LOW_POWER
        }
        val settings = AdvertiseSettings.Builder()
            .setAdvertiseMode(mode)
            .setConnectable(true)
            .setTimeout(0)
            .build()
        val (data, response) = advertisement(serviceData)
        val callback = object : AdvertiseCallback() {
            override fun onStartFailure(errorCode: Int) {
                Log.w(TAG, "advertising failed: $errorCode")
            }
        }
        try {
            advertiser.startAdvertising(settings, data, response, callback)
            advertising = callback
            advertiseMode = mode
        } catch (e: SecurityException) {
            Log.w(TAG, "advertising not permitted", e)
        }
    }

    override fun stopAdvertising() {
        val callback = advertising ?: return
        advertising = null
        runCatching { adapter?.bluetoothLeAdvertiser?.stopAdvertising(callback) }
    }

    override fun connect(handle: String) {
        val device = synchronized(lock) { seen[handle] }
        if (device == null) {
            core.bleConnectFailed(handle)
            return
        }
        try {
            // Deprecated on the newest SDK, but its replacement is not in minSdk 26.
            @Suppress("DEPRECATION")
            val gatt = device.connectGatt(context, false, clientCallback, BluetoothDevice.TRANSPORT_LE)
            if (gatt == null) core.bleConnectFailed(handle) else synchronized(lock) { clients[handle] = gatt }
        } catch (e: SecurityException) {
            core.bleConnectFailed(handle)
        }
    }

    override fun disconnect(linkId: ULong) {
        links.hangUp(linkId)
        pump(linkId)
    }

    override fun send(linkId: ULong, value: ByteArray) {
        if (links.queue(linkId, value)) pump(linkId)
    }

    /** Does what the table says: one value with the stack at a time (confirmed in a callback), or hang up. */
    private fun pump(id: ULong) {
        val peer = links.peer(id) ?: return
        when (val step = links.next(id)) {
            is BleStep.Send -> if (!push(peer, step.value)) {
                // The stack refused the value: the link cannot carry the stream.
                Log.w(TAG, "link $id: value not accepted, closing")
                links.abort(id)
                pump(id)
            }
            // The link goes down when the disconnection is reported.
            BleStep.HangUp -> runCatching {
                if (peer.central) clientOf(peer.handle)?.disconnect() else centralOf(peer.handle)?.let { server?.cancelConnection(it) }
            }
            BleStep.Wait -> {}
        }
    }

    private fun clientOf(address: String) = synchronized(lock) { clients[address] }

    private fun centralOf(address: String) = synchronized(lock) { centrals[address] }

    private fun push(peer: BleLinkPeer, value: ByteArray): Boolean = try {
        if (peer.central) writeValue(peer.handle, value) else notifyValue(peer.handle, value)
    } catch (e: SecurityException) {
        false
    }

    private fun writeValue(address: String, value: ByteArray): Boolean {
        val gatt = clientOf(address) ?: return false
        val char = gatt.getService(PollenGatt.SERVICE)?.getCharacteristic(PollenGatt.WRITE) ?: return false
        return if (Build.VERSION.SDK_INT >= 33) {
            gatt.writeCharacteristic(char, value, BluetoothGattCharacteristic.WRITE_TYPE_NO_RESPONSE) ==
                BluetoothStatusCodes.SUCCESS
        } else {
            @Suppress("DEPRECATION")
            run {
                char.writeType = BluetoothGattCharacteristic.WRITE_TYPE_NO_RESPONSE
                char.value = value
                gatt.writeCharacteristic(char)
            }
        }
    }

    private fun notifyValue(address: String, value: ByteArray): Boolean {
        val s = server ?: return false
        val char = notifyChar ?: return false
        val device = centralOf(address) ?: return false
        return if (Build.VERSION.SDK_INT >= 33) {
            s.notifyCharacteristicChanged(device, char, false, value) == BluetoothStatusCodes.SUCCESS
        } else {
            @Suppress("DEPRECATION")
            run {
                char.value = value
                s.notifyCharacteristicChanged(device, char, false)
            }
        }
    }

    /** The value in flight went out: report it and send the next. */
    private fun sent(address: String, central: Boolean) {
        val id = links.find(address, central) ?: return
        if (links.sent(id)) core.bleReady(id, 1u)
        pump(id)
    }

    /** The connection to [address] in this role is gone: its link (if one was up) goes down. */
    private fun gone(address: String, central: Boolean): ULong? {
        val id = links.goneHandle(address, central)
        synchronized(lock) { if (central) clients.remove(address) else centrals.remove(address) }
        if (id != null) core.bleLinkDown(id)
        return id
    }

    private val scanCallback = object : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) {
            val record = result.scanRecord
            val handle = result.device.address
            synchronized(lock) { seen[handle] = result.device }
            core.bleAdvertisement(
                handle,
                record?.getServiceData(ParcelUuid(PollenGatt.SERVICE)),
                record?.deviceName,
            )
        }

        override fun onScanFailed(errorCode: Int) {
            Log.w(TAG, "scan failed: $errorCode")
            scanning = false
        }
    }

    /** Central role: connect, MTU, discover, subscribe, then bytes. */
    private val clientCallback = object : BluetoothGattCallback() {

        override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
            val handle = gatt.device.address
            if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) {
                if (!gatt.requestMtu(PollenGatt.MAX_MTU)) gatt.discoverServices()
            } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                gatt.close()
                if (gone(handle, central = true) == null) core.bleConnectFailed(handle)
            }
        }

        override fun onMtuChanged(gatt: BluetoothGatt, mtu: Int, status: Int) {
            if (status == BluetoothGatt.GATT_SUCCESS) links.noteMtu(gatt.device.address, true, mtu.toUShort())
            gatt.discoverServices()
        }

        override fun onServicesDiscovered(gatt: BluetoothGatt, status: Int) {
            val service = gatt.getService(PollenGatt.SERVICE)
            val notify = service?.getCharacteristic(PollenGatt.NOTIFY)
            val cccd = notify?.getDescriptor(PollenGatt.CCCD)
            if (status != BluetoothGatt.GATT_SUCCESS || service.getCharacteristic(PollenGatt.WRITE) == null || cccd == null) {
                gatt.disconnect()
                return
            }
            gatt.setCharacteristicNotification(notify, true)
            val enable = BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE
            if (Build.VERSION.SDK_INT >= 33) {
                gatt.writeDescriptor(cccd, enable)
            } else {
                @Suppress("DEPRECATION")
                run {
                    cccd.value = enable
                    gatt.writeDescriptor(cccd)
                }
            }
        }

        override fun onDescriptorWrite(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
            if (status != BluetoothGatt.GATT_SUCCESS) {
                gatt.disconnect()
                return
            }
            val address = gatt.device.address
            val up = links.up(address, true, null) ?: return
            core.bleLinkUp(up.linkId, address, true, up.attMtu)
        }

        override fun onCharacteristicWrite(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            sent(gatt.device.address, central = true)
        }

        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray) {
            if (characteristic.uuid != PollenGatt.NOTIFY) return
            val id = links.find(gatt.device.address, true) ?: return
            core.bleReceived(id, value)
        }

        @Deprecated("Android 12 and lower")
        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic) {
            if (Build.VERSION.SDK_INT >= 33) return
            @Suppress("DEPRECATION")
            val value = characteristic.value ?: return
            onCharacteristicChanged(gatt, characteristic, value)
        }
    }

    /** Peripheral role: a central subscribes (link up), writes (bytes in), we notify (bytes out). */
    private val serverCallback = object : BluetoothGattServerCallback() {
        override fun onConnectionStateChange(device: BluetoothDevice, status: Int, newState: Int) {
            if (newState == BluetoothProfile.STATE_DISCONNECTED) gone(device.address, central = false)
        }

        override fun onMtuChanged(device: BluetoothDevice, mtu: Int) {
            links.noteMtu(device.address, false, mtu.toUShort())
        }

        override fun onDescriptorWriteRequest(
            device: BluetoothDevice,
            requestId: Int,
            descriptor: BluetoothGattDescriptor,
            preparedWrite: Boolean,
            responseNeeded: Boolean,
            offset: Int,
            value: ByteArray,
        ) {
            if (responseNeeded) server?.sendResponse(device, requestId, BluetoothGatt.GATT_SUCCESS, 0, null)
            if (descriptor.uuid != PollenGatt.CCCD || descriptor.characteristic.uuid != PollenGatt.NOTIFY) return
            if (!value.contentEquals(BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE)) {
                gone(device.address, central = false)
                return
            }
            val up = links.up(device.address, false, null) ?: return
            synchronized(lock) { centrals[device.address] = device }
            core.bleLinkUp(up.linkId, device.address, false, up.attMtu)
        }

        override fun onCharacteristicWriteRequest(
            device: BluetoothDevice,
            requestId: Int,
            characteristic: BluetoothGattCharacteristic,
            preparedWrite: Boolean,
            responseNeeded: Boolean,
            offset: Int,
            value: ByteArray,
        ) {
            val id = links.find(device.address, false)
            val ok = characteristic.uuid == PollenGatt.WRITE && id != null && !preparedWrite && offset == 0
            if (responseNeeded) {
                val status = if (ok) BluetoothGatt.GATT_SUCCESS else BluetoothGatt.GATT_FAILURE
                server?.sendResponse(device, requestId, status, 0, null)
            }
            if (ok) core.bleReceived(id, value)
        }

        override fun onNotificationSent(device: BluetoothDevice, status: Int) {
            sent(device.address, central = false)
        }
    }

    /** What a Pollen phone advertises. */
    companion object {
        private const val TAG = "PollenBle"

        /**
         * The advertisement and scan response for [serviceData]: the 128-bit
         * service UUID fills most of the advertisement, so the identifier goes
         * in the scan response. No device name, no TX power, nothing else.
         */
        fun advertisement(serviceData: ByteArray): Pair<AdvertiseData, AdvertiseData> {
            val data = AdvertiseData.Builder()
                .addServiceUuid(ParcelUuid(PollenGatt.SERVICE))
                .setIncludeDeviceName(false)
                .setIncludeTxPowerLevel(false)
                .build()
            val response = AdvertiseData.Builder()
                .addServiceData(ParcelUuid(PollenGatt.SERVICE), serviceData)
                .setIncludeDeviceName(false)
                .build()
            return data to response
        }
    }
}
