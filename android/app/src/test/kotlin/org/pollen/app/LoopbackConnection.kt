package org.pollen.app

import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.launch
import org.pollen.android.LoopbackMesh
import org.pollen.android.MessageNotifier
import org.pollen.android.Pollen
import uniffi.pollen.RunOptions

/**
 * One person's node for the journey test, in its own data directory, on a
 * [LoopbackMesh] where it may link only to [carrier]; what the service does
 * on a phone (open or create, start, notify on events) is done here the same way.
 */
class LoopbackConnection(
    private val dir: File,
    private val peer: String,
    private val mesh: LoopbackMesh,
    private val carrier: String,
    private val notifier: MessageNotifier,
) : MeshConnection {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** The node once connected (for closing it). */
    var pollen: Pollen? = null
        private set

    override val hasIdentity: Boolean get() = dir.list()?.isNotEmpty() == true

    override fun connect(name: String?): Flow<MeshNode?> = flow {
        val node = if (name != null) Pollen.create(dir.path, name) else Pollen.open(dir.path)
        pollen = node
        mesh.join(peer, node)
        mesh.allow(peer, carrier)
        node.start(OFFLINE)
        scope.launch { node.events.collect { runCatching { notifier.onEvent(node, it) } } }
        mesh.connect(peer, carrier)
        emit(
            MeshNode(node, notifier) {
                close()
                uniffi.pollen.wipe(dir.path)
            },
        )
    }

    /** Stops notifying and closes the node. */
    fun close() {
        scope.cancel()
        pollen?.close()
    }

    /** Run options without the LAN: only the loopback links. */
    companion object {
        /** No LAN, no mDNS, no peers. */
        val OFFLINE = RunOptions(lan = false, listen = "127.0.0.1:0", mdns = false, peers = emptyList())
    }
}
