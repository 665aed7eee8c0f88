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
import java.util.ArrayDeque
import java.util.concurrent.atomic.AtomicLong

/**
 * The Android radio for the Pollen core: advertiser, scanner, GATT server
 * (peripheral role) and GATT clients (central role). Thin on purpose: it
 * moves bytes and reports links; [BleCore] decides everything. Runs inside
 * [org.pollen.android.PollenService] (a `connectedDevice` foreground
 * service), which holds the Bluetooth permissions.
 */
@SuppressLint("MissingPermission")
class PollenBle(private val context: Context, private val core: BleCore) : BleRadio {
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private val adapter get() = manager?.adapter
    private val nextLink = AtomicLong(1)
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
    private val seen = HashMap<String, BluetoothDevice>()
    private val links = HashMap<Long, Link>()

    /** One connection, either role, with its queue of values to send. */
    private class Link(val id: Long, val device: BluetoothDevice, val gatt: BluetoothGatt?) {
        var mtu = 23
        var write: BluetoothGattCharacteristic? = null
        val queue = ArrayDeque<ByteArray>()
        var busy = false
        var closing = false
    }

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
        val open = synchronized(lock) { links.values.toList().also { links.clear() } }
        for (l in open) {
            runCatching { l.gatt?.close() ?: server?.cancelConnection(l.device) }
            core.bleLinkDown(l.id.toULong())
        }
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
            device.connectGatt(context, false, clientCallback, BluetoothDevice.TRANSPORT_LE)
                ?: core.bleConnectFailed(handle)
        } catch (e: SecurityException) {
            core.bleConnectFailed(handle)
        }
    }

    override fun disconnect(linkId: ULong) {
        val link = synchronized(lock) { links[linkId.toLong()] } ?: return
        synchronized(lock) { link.closing = true }
        pump(link)
    }

    override fun send(linkId: ULong, value: ByteArray) {
        val link = synchronized(lock) { links[linkId.toLong()] } ?: return
        synchronized(lock) { link.queue.addLast(value) }
        pump(link)
    }

    /** Sends the next queued value if none is in flight; closes a drained closing link. */
    private fun pump(link: Link) {
        val value = synchronized(lock) {
            if (link.busy) return
            val next = link.queue.pollFirst()
            if (next == null) {
                if (link.closing) close(link)
                return
            }
            link.busy = true
            next
        }
        val ok = try {
            if (link.gatt != null) writeValue(link, value) else notifyValue(link, value)
        } catch (e: SecurityException) {
            false
        }
        if (!ok) {
            // The stack refused the value: the link cannot carry the stream.
            Log.w(TAG, "link ${link.id}: value not accepted, closing")
            synchronized(lock) { link.queue.clear() }
            close(link)
        }
    }

    private fun writeValue(link: Link, value: ByteArray): Boolean {
        val gatt = link.gatt ?: return false
        val char = link.write ?: return false
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

    private fun notifyValue(link: Link, value: ByteArray): Boolean {
        val s = server ?: return false
        val char = notifyChar ?: return false
        return if (Build.VERSION.SDK_INT >= 33) {
            s.notifyCharacteristicChanged(link.device, char, false, value) == BluetoothStatusCodes.SUCCESS
        } else {
            @Suppress("DEPRECATION")
            run {
                char.value = value
                s.notifyCharacteristicChanged(link.device, char, false)
            }
        }
    }

    /** A value went out: report it and send the next. */
    private fun sent(link: Link) {
        synchronized(lock) { link.busy = false }
        core.bleReady(link.id.toULong(), 1u)
        pump(link)
    }

    private fun close(link: Link) {
        runCatching {
            if (link.gatt != null) link.gatt.disconnect() else server?.cancelConnection(link.device)
        }
    }

    private fun linkOf(device: BluetoothDevice, central: Boolean): Link? = synchronized(lock) {
        links.values.firstOrNull { it.device.address == device.address && (it.gatt != null) == central }
    }

    private fun gone(link: Link) {
        val removed = synchronized(lock) { links.remove(link.id) != null }
        link.gatt?.let { runCatching { it.close() } }
        if (removed) core.bleLinkDown(link.id.toULong())
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
        private val pending = HashMap<String, Int>()

        override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
            val handle = gatt.device.address
            val link = linkOf(gatt.device, central = true)
            if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) {
                if (!gatt.requestMtu(PollenGatt.MAX_MTU)) gatt.discoverServices()
            } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                if (link != null) {
                    gone(link)
                } else {
                    gatt.close()
                    core.bleConnectFailed(handle)
                }
            }
        }

        override fun onMtuChanged(gatt: BluetoothGatt, mtu: Int, status: Int) {
            synchronized(lock) { pending[gatt.device.address] = if (status == BluetoothGatt.GATT_SUCCESS) mtu else 23 }
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
            val link = Link(nextLink.getAndIncrement(), gatt.device, gatt)
            link.write = gatt.getService(PollenGatt.SERVICE)?.getCharacteristic(PollenGatt.WRITE)
            link.mtu = synchronized(lock) { pending.remove(gatt.device.address) } ?: 23
            synchronized(lock) { links[link.id] = link }
            core.bleLinkUp(link.id.toULong(), gatt.device.address, true, link.mtu.toUShort())
        }

        override fun onCharacteristicWrite(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            val link = linkOf(gatt.device, central = true) ?: return
            sent(link)
        }

        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray) {
            if (characteristic.uuid != PollenGatt.NOTIFY) return
            val link = linkOf(gatt.device, central = true) ?: return
            core.bleReceived(link.id.toULong(), value)
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
        private val mtus = HashMap<String, Int>()

        override fun onConnectionStateChange(device: BluetoothDevice, status: Int, newState: Int) {
            if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                synchronized(lock) { mtus.remove(device.address) }
                linkOf(device, central = false)?.let { gone(it) }
            }
        }

        override fun onMtuChanged(device: BluetoothDevice, mtu: Int) {
            synchronized(lock) { mtus[device.address] = mtu }
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
            val subscribe = value.contentEquals(BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE)
            val existing = linkOf(device, central = false)
            if (subscribe && existing == null) {
                val link = Link(nextLink.getAndIncrement(), device, null)
                link.mtu = synchronized(lock) { mtus[device.address] } ?: 23
                synchronized(lock) { links[link.id] = link }
                core.bleLinkUp(link.id.toULong(), device.address, false, link.mtu.toUShort())
            } else if (!subscribe && existing != null) {
                gone(existing)
            }
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
            val link = linkOf(device, central = false)
            val ok = characteristic.uuid == PollenGatt.WRITE && link != null && !preparedWrite && offset == 0
            if (responseNeeded) {
                val status = if (ok) BluetoothGatt.GATT_SUCCESS else BluetoothGatt.GATT_FAILURE
                server?.sendResponse(device, requestId, status, 0, null)
            }
            if (ok) core.bleReceived(link.id.toULong(), value)
        }

        override fun onNotificationSent(device: BluetoothDevice, status: Int) {
            val link = linkOf(device, central = false) ?: return
            sent(link)
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
