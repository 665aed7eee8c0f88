package org.pollen.android

import java.util.concurrent.atomic.AtomicInteger
import uniffi.pollen.BleRadio
import uniffi.pollen.CallbackException
import uniffi.pollen.PollenException

/**
 * Radios in range of each other, in memory (the Kotlin twin of the Python
 * test's air): advertisements reach scanners ten times a second, `connect`
 * brings a link up at both ends, a value sent at one end arrives at the
 * other and is acknowledged with `bleReady`, `disconnect` takes both ends
 * down. The core's BLE driver makes every decision.
 */
class BleAir(private val attMtu: UShort = 185u) : AutoCloseable {
    private val lock = Any()
    private val radios = LinkedHashMap<String, Radio>()
    private val ends = HashMap<ULong, Triple<Radio, Radio, ULong>>()
    private var nextId = 100uL

    /** Connections the cores asked for. */
    val connects = AtomicInteger()

    /** Values longer than the ATT MTU allows. */
    val oversize = AtomicInteger()

    @Volatile private var running = true
    private val beacon = Thread {
        while (running) {
            Thread.sleep(BEACON_MS)
            beaconOnce()
        }
    }.apply {
        isDaemon = true
        start()
    }

    /** One phone's radio on this air. */
    inner class Radio(val handle: String, val node: Pollen) : BleRadio {
        @Volatile var scanning = false

        @Volatile var adv: ByteArray? = null

        override fun startScan() {
            scanning = true
        }

        override fun stopScan() {
            scanning = false
        }

        override fun advertise(serviceData: ByteArray, localName: String, intervalMs: UInt) {
            adv = serviceData
        }

        override fun stopAdvertising() {
            adv = null
        }

        override fun connect(handle: String) = connectTo(this, handle)

        override fun disconnect(linkId: ULong) = disconnectLink(linkId)

        override fun send(linkId: ULong, value: ByteArray) = sendOn(this, linkId, value)
    }

    /** A radio for [node], heard by every other radio here. */
    fun radio(handle: String, node: Pollen): Radio = Radio(handle, node).also { synchronized(lock) { radios[handle] = it } }

    private fun beaconOnce() {
        val all = synchronized(lock) { radios.values.toList() }
        for (adv in all) {
            val data = adv.adv ?: continue
            for (scanner in all) {
                if (scanner !== adv && scanner.scanning) quietly { scanner.node.bleAdvertisement(adv.handle, data, null) }
            }
        }
    }

    private fun connectTo(central: Radio, handle: String) {
        val (target, ids) = synchronized(lock) {
            val target = radios[handle]?.takeIf { it.adv != null } ?: return@synchronized null to null
            val la = nextId
            val lb = nextId + 1uL
            nextId += 2uL
            ends[la] = Triple(central, target, lb)
            ends[lb] = Triple(target, central, la)
            target to (la to lb)
        }
        if (target == null || ids == null) {
            quietly { central.node.bleConnectFailed(handle) }
            return
        }
        connects.incrementAndGet()
        // Both link-ups are queued before either core can send: this runs on the
        // central's core thread, which takes its own link-up after this call, and
        // the peripheral answers only once it took its link-up.
        quietly { central.node.bleLinkUp(ids.first, handle, true, attMtu) }
        quietly { target.node.bleLinkUp(ids.second, central.handle, false, attMtu) }
    }

    private fun sendOn(radio: Radio, linkId: ULong, value: ByteArray) {
        if (value.size > attMtu.toInt() - 3) oversize.incrementAndGet()
        val end = synchronized(lock) { ends[linkId] } ?: throw CallbackException.Failed("BLE link $linkId is closed")
        quietly { end.second.node.bleReceived(end.third, value) }
        quietly { radio.node.bleReady(linkId, 1u) }
    }

    private fun disconnectLink(linkId: ULong) {
        val end = synchronized(lock) {
            ends.remove(linkId)?.also { ends.remove(it.third) }
        } ?: return
        quietly { end.second.node.bleLinkDown(end.third) }
        quietly { end.first.node.bleLinkDown(linkId) }
    }

    // A node shut down while the air still carries its traffic refuses calls.
    private inline fun quietly(call: () -> Unit) {
        try {
            call()
        } catch (_: PollenException) {
        }
    }

    override fun close() {
        running = false
        beacon.join()
    }

    private companion object {
        const val BEACON_MS = 100L
    }
}
