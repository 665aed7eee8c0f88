package org.pollen.app

import android.content.Context
import android.text.format.Formatter
import android.widget.EditText
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen
import org.pollen.android.PollenService

/** Identity, storage, public channels, and stopping the mesh. */
class SettingsScreen(
    private val context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = "Settings"
    private val identity = context.label().apply { setTextIsSelectable(true) }
    private val channel = EditText(context).apply { hint = "#channel" }

    override val view = context.column(
        identity,
        context.row(channel, context.button("Join") { join() }),
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

    override suspend fun refresh(pollen: Pollen) {
        val s = pollen.status()
        identity.text = buildString {
            appendLine("Name: ${s.name}")
            appendLine("Fingerprint: ${s.fingerprint}")
            appendLine("Storage: ${Formatter.formatFileSize(context, s.storageBytes.toLong())} of ${Formatter.formatFileSize(context, s.storageCapBytes.toLong())}")
            appendLine("Contacts ${s.contacts}, conversations ${s.conversations}, messages ${s.messages}")
        }
    }
}
