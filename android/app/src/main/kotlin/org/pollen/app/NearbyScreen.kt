package org.pollen.app

import android.content.Context
import org.pollen.android.Pollen
import uniffi.pollen.NeighbourInfo

/** Who is in reach now and what this phone carries. */
class NearbyScreen(context: Context, private val neighbours: () -> Collection<NeighbourInfo>) : Screen {
    override val title = "Nearby"
    private val text = context.label()
    override val view = context.column(text)

    override suspend fun refresh(pollen: Pollen) {
        val s = pollen.status()
        val near = neighbours()
        text.text = buildString {
            appendLine(if (s.running) "Mesh running" else "Mesh stopped")
            appendLine("LAN: ${s.lanAddress ?: "off"}")
            appendLine("Neighbours: ${s.neighbours} over ${s.links} links")
            near.forEach { appendLine("  · ${it.id} (${it.kind.name.lowercase()})") }
            appendLine()
            appendLine("Envelopes held: ${s.envelopesStored}")
            appendLine("Carried for others: ${s.carriedForOthers}")
            appendLine("Mine, not yet delivered: ${s.ownUndelivered}")
            appendLine("Mine, delivered: ${s.ownDelivered}")
        }
    }
}
