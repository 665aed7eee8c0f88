package org.pollen.app

import android.content.Context
import android.text.format.Formatter
import android.widget.CheckBox
import android.widget.EditText
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen
import org.pollen.android.PollenService

/** Identity, storage, public channels, relays (the internet uplink), encounter routing, and stopping the mesh. */
class SettingsScreen(
    private val context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = "Settings"
    private val identity = context.label().apply { setTextIsSelectable(true) }
    private val channel = EditText(context).apply { hint = "#channel" }
    private val relays = context.label(size = 12f).apply { id = RELAYS_ID }
    private val relay = EditText(context).apply {
        id = RELAY_ID
        hint = "pollen-relay://host:port/key"
    }

    private val encounters = CheckBox(context).apply {
        id = ENCOUNTERS_ID
        text = "Tell nearby phones whom I meet (keys that change daily), to route others' messages better"
        setOnClickListener { setEncounters(isChecked) }
    }

    override val view = context.column(
        identity,
        context.row(channel, context.button("Join") { join() }),
        relays,
        context.row(relay, context.button("Add relay") { addRelay() }),
        encounters,
        context.button("Stop the mesh") { PollenService.stop(context) },
    )

    private fun join() {
        val node = pollen() ?: return
        val name = channel.text.toString().trim()
        if (name.isEmpty()) return
        scope.launch {
            try {
                node.joinChannel(name)
                channel.setText("")
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    /** Saves one more relay; the core refuses a bad address with its reason. Used from the mesh's next start. */
    private fun addRelay() {
        val node = pollen() ?: return
        val address = relay.text.toString().trim()
        if (address.isEmpty()) return
        scope.launch {
            try {
                node.addRelay(address)
                relay.setText("")
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    /** The core keeps the switch; on failure the box shows what the core holds again. */
    private fun setEncounters(on: Boolean) {
        val node = pollen() ?: return
        scope.launch {
            try {
                node.setEncounterRouting(on)
            } catch (e: Exception) {
                report(e)
            }
            encounters.isChecked = node.encounterRouting()
        }
    }

    override suspend fun refresh(pollen: Pollen) {
        val s = pollen.status()
        identity.text = buildString {
            appendLine("Name: ${s.name}")
            appendLine("Fingerprint: ${s.fingerprint}")
            appendLine("Storage: ${Formatter.formatFileSize(context, s.storageBytes.toLong())} of ${Formatter.formatFileSize(context, s.storageCapBytes.toLong())}")
            appendLine("Contacts ${s.contacts}, conversations ${s.conversations}, messages ${s.messages}")
        }
        val saved = pollen.relays()
        relays.text = if (saved.isEmpty()) "No relay: messages leave only through people nearby" else "Relays:\n" + saved.joinToString("\n")
        encounters.isChecked = pollen.encounterRouting()
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The relays saved. */
        const val RELAYS_ID = 0x7f0a0701

        /** The relay address field. */
        const val RELAY_ID = 0x7f0a0702

        /** The encounter-routing switch. */
        const val ENCOUNTERS_ID = 0x7f0a0703
    }
}
