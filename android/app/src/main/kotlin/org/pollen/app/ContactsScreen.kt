package org.pollen.app

import android.app.AlertDialog
import android.content.Context
import android.graphics.Bitmap
import android.widget.ArrayAdapter
import android.widget.EditText
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.ListView
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen

/**
 * Our card as a QR code; contacts with their safety numbers; adding one from
 * a photographed QR code or a pasted card.
 */
class ContactsScreen(
    private val context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val photograph: () -> Unit,
    private val report: (Throwable) -> Unit,
    private val newGroup: () -> Unit = {},
    private val openChat: (conversationId: String, title: String) -> Unit,
) : Screen {
    override val title = "Contacts"
    private val qr = ImageView(context).apply {
        id = QR_ID
        adjustViewBounds = true
    }
    private val cardText = context.label(size = 10f).apply { setTextIsSelectable(true) }
    private val pasted = EditText(context).apply {
        id = PASTE_ID
        hint = "Paste a pollen1… card or link"
    }
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var aliases = emptyList<String>()

    override val view = context.column(
        qr,
        cardText,
        context.row(pasted, context.button("Add") { add(pasted.text.toString()) }),
        context.button("Scan a QR code (camera)") { photograph() },
        ListView(context).apply {
            adapter = this@ContactsScreen.adapter
            id = CONTACT_LIST_ID
            setOnItemClickListener { _, _, position, _ -> aliases.getOrNull(position)?.let(::startChat) }
            setOnItemLongClickListener { _, _, position, _ ->
                aliases.getOrNull(position)?.let(::showSafetyNumber)
                true
            }
        },
        context.button("New group") { newGroup() },
    ).apply { (getChildAt(4).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    /** A photo came back from the camera: add the card in it, if any. */
    fun photographed(photo: Bitmap) {
        val card = QrCodes.decode(photo)
        if (card == null) report(IllegalArgumentException("No QR code found in the photo"))
        else add(card)
    }

    private fun add(card: String) {
        val node = pollen() ?: return
        if (card.isBlank()) return
        scope.launch {
            try {
                node.addContactFromInput(card)
                pasted.setText("")
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    /** Opens the chat with a contact, creating it if no message exists yet. */
    private fun startChat(alias: String) {
        val node = pollen() ?: return
        scope.launch {
            try {
                val chat = node.openChatWithContact(alias)
                openChat(chat.conversationId, chat.title)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    private fun showSafetyNumber(alias: String) {
        val node = pollen() ?: return
        scope.launch {
            try {
                val number = node.safetyNumber(alias)
                AlertDialog.Builder(context)
                    .setTitle("Safety number with $alias")
                    .setMessage("Compare in person:\n\n$number")
                    .setPositiveButton("They match") { _, _ ->
                        scope.launch { runCatching { node.markVerified(alias); refresh(node) }.onFailure(report) }
                    }
                    .setNegativeButton("Cancel", null)
                    .show()
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    override suspend fun refresh(pollen: Pollen) {
        val card = pollen.card()
        if (cardText.text.toString() != card) {
            cardText.text = card
            qr.setImageBitmap(QrCodes.encode(card))
        }
        val contacts = pollen.contacts()
        aliases = contacts.map { it.alias }
        adapter.clear()
        adapter.addAll(contacts.map { c -> if (c.verified) "${c.alias}  ✓" else c.alias })
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The paste field. */
        const val PASTE_ID = 0x7f0a0101

        /** The contact list (tap: chat; long press: safety number). */
        const val CONTACT_LIST_ID = 0x7f0a0102

        /** Our card's QR code. */
        const val QR_ID = 0x7f0a0103
    }
}
