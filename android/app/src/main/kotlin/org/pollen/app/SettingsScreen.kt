package org.pollen.app

import android.app.AlertDialog
import android.content.Context
import android.net.Uri
import android.text.format.Formatter
import android.widget.CheckBox
import android.widget.EditText
import android.widget.RadioButton
import android.widget.RadioGroup
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import org.pollen.android.Pollen
import org.pollen.android.PollenService
import uniffi.pollen.DeliveryReceipts
import uniffi.pollen.TransportsInfo

/**
 * Identity, storage, public channels, relays (the internet uplink), the
 * transports allowed, encounter routing, screen privacy, delivery and read
 * receipts, sneakernet bundles, other apps' access to shared documents,
 * stopping the mesh and the panic wipe.
 */
class SettingsScreen(
    private val context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
    /** Tells the mesh the allowed transports changed (the service starts or stops its radios). */
    private val transportsChanged: () -> Unit,
    /** Asks the system for a file to write a bundle to (true) or to read one from (false). */
    private val pickBundle: (export: Boolean) -> Unit,
    /** Erases everything on this phone (asked first, here). */
    private val erase: () -> Unit = {},
    /** Applies screen privacy to the window (true: kept out of screenshots and the app switcher). */
    private val keepPrivate: (Boolean) -> Unit = {},
    /** Opens the screen where the user lets other apps use shared documents ([AppAccessScreen]). */
    private val openAppAccess: () -> Unit = {},
) : Screen {
    override val title = "Settings"
    private val identity = context.label().apply { setTextIsSelectable(true) }
    private val channel = EditText(context).apply { hint = "#channel" }
    private val relays = context.label(size = 12f).apply { id = RELAYS_ID }
    private val relay = EditText(context).apply {
        id = RELAY_ID
        hint = "pollen-relay://host:port/key"
    }

    /** One switch change at a time: a later tap waits for the core to take the earlier one. */
    private val switching = Mutex()

    private val encounters = CheckBox(context).apply {
        id = ENCOUNTERS_ID
        text = "Tell nearby phones whom I meet (keys that change daily), to route others' messages better"
        setOnClickListener { setEncounters(isChecked) }
    }

    private val bluetooth = CheckBox(context).apply {
        id = BLUETOOTH_ID
        text = "Bluetooth: phones in reach"
        setOnClickListener { isChecked.let { on -> setTransport { it.copy(bluetooth = on) } } }
    }

    private val wifi = CheckBox(context).apply {
        id = WIFI_ID
        text = "Wi-Fi: phones on the same network"
        setOnClickListener { isChecked.let { on -> setTransport { it.copy(wifi = on) } } }
    }

    private val privacy = CheckBox(context).apply {
        id = PRIVATE_ID
        text = "Keep Pollen out of screenshots and the app switcher"
        setOnClickListener { setPrivate(isChecked) }
    }

    /** When "delivered" goes back to the author: one button per choice the core offers. */
    private val receipts = RadioGroup(context).apply {
        id = RECEIPTS_ID
        orientation = RadioGroup.VERTICAL
        for (mode in DeliveryReceipts.entries) {
            addView(RadioButton(context).apply {
                id = receiptsId(mode)
                text = RECEIPT_LABELS.getValue(mode)
                setOnClickListener { setReceipts(mode) }
            })
        }
    }

    private val readReceipts = CheckBox(context).apply {
        id = READ_RECEIPTS_ID
        text = "Tell the others in a chat how far I have read"
        setOnClickListener { setReadReceipts(isChecked) }
    }

    private val bundle = context.label(size = 12f).apply { id = BUNDLE_ID }

    override val view = context.column(
        identity,
        context.row(channel, context.button("Join") { join() }),
        relays,
        context.row(relay, context.button("Add relay") { addRelay() }),
        bluetooth,
        wifi,
        encounters,
        privacy,
        context.label("Delivery receipts", size = 14f),
        receipts,
        readReceipts,
        context.row(
            context.button(EXPORT) { pickBundle(true) },
            context.button(IMPORT) { pickBundle(false) },
        ),
        bundle,
        context.button(OTHER_APPS) { openAppAccess() },
        context.button("Stop the mesh") { PollenService.stop(context) },
        context.button(ERASE) { askToErase() },
    )

    /** A panic wipe cannot be undone: it is asked once, with what it does. */
    private fun askToErase() {
        AlertDialog.Builder(context)
            .setMessage(uniffi.pollen.eraseWarning())
            .setPositiveButton("Erase") { _, _ -> erase() }
            .setNegativeButton("Cancel", null)
            .show()
    }

    /**
     * The core keeps and applies the choice; the boxes then show what it
     * holds. Each box changes only its own transport, one change at a time,
     * so quick taps on both are all kept.
     */
    private fun setTransport(change: (TransportsInfo) -> TransportsInfo) {
        val node = pollen() ?: return
        scope.launch {
            switching.withLock {
                try {
                    node.setTransports(change(node.transports()))
                    transportsChanged()
                } catch (e: Exception) {
                    report(e)
                }
                showTransports(node)
            }
        }
    }

    private suspend fun showTransports(node: Pollen) {
        val allowed = node.transports()
        bluetooth.isChecked = allowed.bluetooth
        wifi.isChecked = allowed.wifi
    }

    /**
     * Writes a bundle of what this phone carries to [uri] (a file the user
     * picked: a USB stick, a shared folder) for someone to carry by hand.
     */
    fun exportTo(uri: Uri) = withBundleFile { node, file ->
        val written = node.exportBundle(file.path)
        withContext(Dispatchers.IO) {
            context.contentResolver.openOutputStream(uri, "wt").use { out ->
                checkNotNull(out) { "cannot write to $uri" }
                file.inputStream().use { it.copyTo(out) }
            }
        }
        written.summary
    }

    /** Reads the bundle at [uri] (checked record by record by the core) and says what it brought. */
    fun importFrom(uri: Uri) = withBundleFile { node, file ->
        withContext(Dispatchers.IO) {
            context.contentResolver.openInputStream(uri).use { input ->
                checkNotNull(input) { "cannot read $uri" }
                file.outputStream().use { input.copyTo(it) }
            }
        }
        node.importBundle(file.path).summary
    }

    /** Runs [work] with a scratch file the core reads or writes (it takes paths, the system gives URIs), then shows its line. */
    private fun withBundleFile(work: suspend (Pollen, File) -> String) {
        val node = pollen() ?: return
        scope.launch {
            val file = File(context.cacheDir, "bundle-${System.nanoTime()}.pollen")
            try {
                bundle.text = work(node, file)
                refresh(node)
            } catch (e: Exception) {
                report(e)
            } finally {
                file.delete()
            }
        }
    }

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

    /** The core keeps the switch; the window and the box then follow what it holds. */
    private fun setPrivate(on: Boolean) {
        val node = pollen() ?: return
        scope.launch {
            switching.withLock {
                try {
                    node.setScreenPrivate(on)
                } catch (e: Exception) {
                    report(e)
                }
                val held = node.screenPrivate()
                keepPrivate(held)
                privacy.isChecked = held
            }
        }
    }

    /** The core keeps the switch; on failure the box shows what the core holds again. */
    private fun setEncounters(on: Boolean) {
        val node = pollen() ?: return
        scope.launch {
            switching.withLock {
                try {
                    node.setEncounterRouting(on)
                } catch (e: Exception) {
                    report(e)
                }
                encounters.isChecked = node.encounterRouting()
            }
        }
    }

    /** The core keeps the choice; the buttons then show what it holds. */
    private fun setReceipts(mode: DeliveryReceipts) {
        val node = pollen() ?: return
        scope.launch {
            switching.withLock {
                try {
                    node.setDeliveryReceipts(mode)
                } catch (e: Exception) {
                    report(e)
                }
                receipts.check(receiptsId(node.deliveryReceipts()))
            }
        }
    }

    /** The core keeps the switch; on failure the box shows what the core holds again. */
    private fun setReadReceipts(on: Boolean) {
        val node = pollen() ?: return
        scope.launch {
            switching.withLock {
                try {
                    node.setReadReceipts(on)
                } catch (e: Exception) {
                    report(e)
                }
                readReceipts.isChecked = node.readReceipts()
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
        val settings = pollen.settings()
        val saved = settings.relays
        relays.text = if (saved.isEmpty()) "No relay: messages leave only through people nearby" else "Relays:\n" + saved.joinToString("\n")
        encounters.isChecked = settings.encounterRouting
        privacy.isChecked = settings.screenPrivate
        receipts.check(receiptsId(settings.deliveryReceipts))
        readReceipts.isChecked = settings.readReceipts
        bluetooth.isChecked = settings.transports.bluetooth
        wifi.isChecked = settings.transports.wifi
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The relays saved. */
        const val RELAYS_ID = 0x7f0a0701

        /** The relay address field. */
        const val RELAY_ID = 0x7f0a0702

        /** The encounter-routing switch. */
        const val ENCOUNTERS_ID = 0x7f0a0703

        /** The Bluetooth switch. */
        const val BLUETOOTH_ID = 0x7f0a0704

        /** The Wi-Fi switch. */
        const val WIFI_ID = 0x7f0a0705

        /** The screen-privacy switch. */
        const val PRIVATE_ID = 0x7f0a0707

        /** The delivery-receipt choices. */
        const val RECEIPTS_ID = 0x7f0a0708

        /** The read-receipt switch. */
        const val READ_RECEIPTS_ID = 0x7f0a0709

        /** The button of one delivery-receipt choice. */
        fun receiptsId(mode: DeliveryReceipts) = 0x7f0a0710 + mode.ordinal

        /** What each choice means, as the user reads it (`docs/THREAT_MODEL.md`, P6). */
        val RECEIPT_LABELS = mapOf(
            DeliveryReceipts.BATCHED to "In batches: \"delivered\" leaves within about 20 minutes, so its timing tells nearby phones little",
            DeliveryReceipts.IMMEDIATE to "At once: senders see \"delivered\" sooner; nearby phones may tell who the recipient was",
            DeliveryReceipts.OFF to "Never: senders never see \"delivered\", and carriers keep the message until it expires",
        )

        /** What the last bundle export or import did. */
        const val BUNDLE_ID = 0x7f0a0706

        /** The export button's label. */
        const val EXPORT = "Export a bundle"

        /** The import button's label. */
        const val IMPORT = "Import a bundle"

        /** The label of the button that opens [AppAccessScreen]. */
        const val OTHER_APPS = "Other apps and shared documents"

        /** The panic-wipe button's label. */
        const val ERASE = "Erase everything on this phone"

    }
}
