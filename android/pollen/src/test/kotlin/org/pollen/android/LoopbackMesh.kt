package org.pollen.android

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import uniffi.pollen.PlatformTransport
import uniffi.pollen.PollenException

/**
 * The platform transport, done in memory: nodes of one JVM joined by ordered,
 * reliable byte pipes (what a GATT write + notify pair or a socket gives),
 * only between the pairs [allow]ed — so a message between two nodes that are
 * not neighbours has to be carried by one in between.
 */
class LoopbackMesh(private val maxWrite: Int = BLE_LIKE_MAX_WRITE) : AutoCloseable {
    // One thread does every delivery: the core's callbacks must not block, and
    // a single queue keeps each link's bytes in order.
    private val pump: ExecutorService = Executors.newSingleThreadExecutor { r ->
        Thread(r, "loopback-pump").apply { isDaemon = true }
    }
    private val nodes = ConcurrentHashMap<String, Pollen>()
    private val neighbours = ConcurrentHashMap.newKeySet<Set<String>>()
    private val links = ConcurrentHashMap<ULong, Set<String>>()
    private val nextLink = AtomicLong(1)

    /** Bytes handed from one node to another. */
    val bytesCarried = AtomicLong()

    /** Links opened so far (including those the core asked for). */
    val linksOpened = AtomicLong()

    /** Writes longer than the link's max_write (the core must never make one). */
    val oversizedWrites = AtomicLong()

    /** Deliveries refused by the receiving core (e.g. a link it already closed). */
    val refused = AtomicLong()

    /** Makes [pollen] reachable as [name] and gives it this mesh as its platform transport. */
    fun join(name: String, pollen: Pollen) {
        nodes[name] = pollen
        pollen.setTransport(Endpoint(name))
    }

    /** Lets [a] and [b] open links to each other. */
    fun allow(a: String, b: String) {
        neighbours.add(setOf(a, b))
    }

    /** Opens a link from [from] (initiator) to [to], as a platform would on meeting a peer. */
    fun connect(from: String, to: String) = pump.execute { open(from, to) }

    private fun open(from: String, to: String) {
        if (setOf(from, to) !in neighbours) return
        if (links.values.any { it == setOf(from, to) }) return
        val initiator = nodes[from] ?: return
        val responder = nodes[to] ?: return
        val id = nextLink.getAndIncrement().toULong()
        links[id] = setOf(from, to)
        linksOpened.incrementAndGet()
        try {
            responder.linkUp(id, from, false, maxWrite)
            initiator.linkUp(id, to, true, maxWrite)
        } catch (e: PollenException) {
            // A node that is not running refuses links; the pair just stays apart.
            links.remove(id)
            responder.linkDownQuietly(id)
            refused.incrementAndGet()
        }
    }

    private fun Pollen.linkDownQuietly(id: ULong) {
        try {
            linkDown(id)
        } catch (_: PollenException) {
            refused.incrementAndGet()
        }
    }

    /** One node's side of the mesh: what its core calls. */
    private inner class Endpoint(private val name: String) : PlatformTransport {
        private fun otherEnd(linkId: ULong): Pollen? =
            links[linkId]?.firstOrNull { it != name }?.let { nodes[it] }

        override fun send(linkId: ULong, bytes: ByteArray) {
            if (bytes.size > maxWrite) oversizedWrites.incrementAndGet()
            pump.execute {
                val other = otherEnd(linkId) ?: return@execute
                try {
                    other.linkReceived(linkId, bytes)
                    bytesCarried.addAndGet(bytes.size.toLong())
                } catch (_: PollenException) {
                    refused.incrementAndGet()
                }
            }
        }

        override fun disconnect(linkId: ULong) {
            pump.execute {
                val other = otherEnd(linkId) ?: return@execute
                links.remove(linkId)
                other.linkDownQuietly(linkId)
            }
        }

        override fun connect(peer: String) = pump.execute { open(name, peer) }
    }

    /** Stops delivering; the nodes are closed by their owners. */
    override fun close() {
        pump.shutdownNow()
        pump.awaitTermination(5, TimeUnit.SECONDS)
    }

    private companion object {
        // A typical negotiated BLE ATT MTU (185) minus the 3-byte ATT header.
        const val BLE_LIKE_MAX_WRITE = 182
    }
}
