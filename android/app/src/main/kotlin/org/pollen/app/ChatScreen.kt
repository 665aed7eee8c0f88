package org.pollen.app

import android.Manifest
import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.media.MediaPlayer
import android.net.Uri
import android.util.LruCache
import android.view.View
import android.view.ViewGroup
import android.widget.BaseAdapter
import android.widget.EditText
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.ListView
import android.widget.ProgressBar
import android.widget.TextView
import java.io.File
import java.util.TimeZone
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.pollen.android.Pollen
import uniffi.pollen.AttachmentInfo
import uniffi.pollen.AttachmentKind
import uniffi.pollen.AttachmentState
import uniffi.pollen.ConversationKind
import uniffi.pollen.FileToSend
import uniffi.pollen.TimelineEntry
import uniffi.pollen.TimelineMessageInfo

/**
 * One chat: its timeline from the app model, oldest at the top, and a field
 * to write; a photo or file picked, or a voice note recorded, goes with the
 * draft. A message's attachment shows under it as the core describes it
 * (its line, kind, state and progress): a tap asks for it, or opens it once whole.
 */
class ChatScreen(
    private val context: Context,
    /** The conversation id (hex). */
    val conversationId: String,
    /** Contact alias, group name or `#channel`, as the title. */
    private val chatTitle: String,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
    /** Records voice notes (the microphone; a fake in tests). */
    private val recorder: VoiceRecorder = MediaVoiceRecorder(context),
    /** Opens the system's document picker; the activity hands the result to [sendPicked]. */
    private val pickFile: () -> Unit = {},
    /** Asks for the microphone; the activity calls [record] once granted. */
    private val askMicrophone: () -> Unit = {},
    /** Opens the chat's needs-and-offers board (id, title). */
    private val openBoard: (String, String) -> Unit = { _, _ -> },
    /** Opens a group's members screen (id, title); shown for groups only. */
    private val openMembers: (String, String) -> Unit = { _, _ -> },
) : Screen {
    override val title = chatTitle
    private val adapter = TimelineAdapter()
    private val draft = EditText(context).apply {
        id = DRAFT_ID
        hint = "Message"
    }

    private var muted = false
    private var items = emptyList<TimelineEntry>()
    private var selected: TimelineMessageInfo? = null
    private val selection = context.label(size = 14f).apply { id = SELECTED_ID }
    private val mute = context.button("Mute") { toggleMute() }.apply { id = MUTE_ID }
    private val members = context.button("Members") { openMembers(conversationId, chatTitle) }.apply {
        id = MEMBERS_ID
        visibility = android.view.View.GONE
    }
    private val board = context.button("Board") { openBoard(conversationId, chatTitle) }.apply { id = BOARD_ID }
    private var blocked = false
    private val block = context.button("Block") { toggleBlock() }.apply {
        id = BLOCK_ID
        visibility = android.view.View.GONE
    }

    private val recordButton = context.button(RECORD) { if (recording == null) record() else stopAndSend() }.apply { id = RECORD_ID }
    private var recording: File? = null
    private var player: MediaPlayer? = null
    private var polling: Job? = null

    /** Whole pictures (decoded from the core's file) and thumbnails, by blob id. */
    private val undecodable = mutableSetOf<String>()
    private val pictures = object : LruCache<String, Bitmap>(PICTURE_CACHE_BYTES) {
        override fun sizeOf(key: String, value: Bitmap) = value.byteCount
    }

    override val view = context.column(
        context.row(context.label(chatTitle, 20f), members, board, block, mute),
        ListView(context).apply {
            id = TIMELINE_ID
            adapter = this@ChatScreen.adapter
            setOnItemClickListener { _, _, position, _ -> select(position) }
        },
        selection,
        context.row(
            context.button("Reply") { act { node, m -> node.reply(m.id, take() ?: return@act) } }.apply { id = REPLY_ID },
            context.button(REACTION) { act { node, m -> node.react(m.id, if (m.reactions.any { it.mine && it.emoji == REACTION }) "" else REACTION) } }
                .apply { id = REACT_ID },
            context.button("Edit") { act { node, m -> node.edit(m.id, take() ?: return@act) } }.apply { id = EDIT_ID },
            context.button("Delete") { act { node, m -> node.delete(m.id) } }.apply { id = DELETE_ID },
        ),
        context.row(context.button("Attach") { pickFile() }.apply { id = ATTACH_ID }, recordButton),
        context.row(draft, context.button("Send") { send() }.apply { id = SEND_ID }),
    ).apply { (getChildAt(1).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    /** The document at [uri] (from the picker), sent with the draft: copied into the cache, its name and type from the system, a thumbnail if it is a picture. */
    fun sendPicked(uri: Uri) {
        val node = pollen() ?: return
        val text = draft.text.toString()
        scope.launch {
            var file: FileToSend? = null
            try {
                file = withContext(Dispatchers.IO) { context.copyPicked(uri, outgoing()) }
                node.sendFile(conversationId, file, text)
                if (draft.text.toString() == text) draft.setText("")
                refresh(node)
            } catch (e: Exception) {
                report(e)
            } finally {
                file?.let { File(it.path).delete() }
            }
        }
    }

    /** Starts a voice note, once the microphone is allowed (else asks; the activity calls this again when granted). */
    fun record() {
        if (recording != null) return
        if (context.checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            askMicrophone()
            return
        }
        val file = File(outgoing(), "voice-${System.nanoTime()}.m4a")
        try {
            recorder.start(file)
        } catch (e: Exception) {
            report(e)
            return
        }
        recording = file
        recordButton.text = STOP
    }

    /** Stops the voice note and sends it, with its length and the draft. */
    private fun stopAndSend() {
        val file = recording ?: return
        recording = null
        recordButton.text = RECORD
        val length = recorder.stop() ?: return
        val node = pollen()
        if (node == null) {
            file.delete()
            return
        }
        val text = draft.text.toString()
        scope.launch {
            try {
                val note = FileToSend(file.path, VoiceRecorder.FILE_NAME, VoiceRecorder.MIME, length.coerceIn(0, UInt.MAX_VALUE.toLong()).toUInt(), ByteArray(0))
                node.sendFile(conversationId, note, text)
                if (draft.text.toString() == text) draft.setText("")
                refresh(node)
            } catch (e: Exception) {
                report(e)
            } finally {
                file.delete()
            }
        }
    }

    /** The app left the screen: a recording is thrown away, playback stops. */
    fun pause() {
        if (recording != null) {
            recorder.cancel()
            recording = null
            recordButton.text = RECORD
        }
        player?.release()
        player = null
    }

    private fun outgoing() = File(context.cacheDir, "outgoing").apply { mkdirs() }

    /** A tap on an attachment: asked for if the core waits for the user (or for Wi-Fi); opened or played once whole. */
    private fun tapAttachment(a: AttachmentInfo) {
        when (a.state) {
            AttachmentState.ASK, AttachmentState.WIFI_ONLY -> runThenRefresh(scope, pollen(), report) { it.fetchAttachment(a.blobId) }
            AttachmentState.WHOLE -> open(a)
            AttachmentState.COMING -> Unit
        }
    }

    /** Plays a whole voice note here; anything else goes to the app that views its type, read through [AttachmentProvider]. */
    private fun open(a: AttachmentInfo) {
        val node = pollen() ?: return
        scope.launch {
            try {
                val file = File(node.attachmentFile(a.blobId, AttachmentProvider.dir(context).path))
                if (a.kind == AttachmentKind.AUDIO) {
                    play(file)
                } else {
                    val intent = Intent(Intent.ACTION_VIEW)
                        .setDataAndType(AttachmentProvider.uriFor(file), a.mime.ifEmpty { "application/octet-stream" })
                        .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
                    if (context !is Activity) intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)
                    try {
                        context.startActivity(intent)
                    } catch (e: ActivityNotFoundException) {
                        report(IllegalStateException("No app here opens ${a.name}", e))
                    }
                }
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    /** Plays [file] (a tap while it plays stops it). */
    private fun play(file: File) {
        val playing = player
        player = null
        if (playing != null) {
            playing.release()
            return
        }
        val p = MediaPlayer()
        try {
            p.setDataSource(file.path)
            p.setOnCompletionListener { if (player === it) player = null; it.release() }
            p.prepare()
            p.start()
            player = p
        } catch (e: Exception) {
            p.release()
            report(e)
        }
    }

    /** A tapped message becomes the one Reply, react, Edit and Delete act on (tapped again, none). */
    private fun select(position: Int) {
        val m = (items.getOrNull(position) as? TimelineEntry.Message)?.message
        selected = if (m == null || m.id == selected?.id) null else m
        selection.text = selected?.let { "Selected: ${message(it)}" } ?: ""
    }

    /** The draft's text, taken out of the field; null if blank. */
    private fun take(): String? = draft.text.toString().takeIf { it.isNotBlank() }?.also { draft.setText("") }

    /** Runs [action] on the selected message, then redraws (the core refuses what is not allowed: the error is shown). */
    private fun act(action: suspend (Pollen, TimelineMessageInfo) -> Unit) {
        val node = pollen() ?: return
        val m = selected ?: return
        scope.launch {
            try {
                action(node, m)
                selected = null
                selection.text = ""
                refresh(node)
            } catch (e: Exception) {
                report(e)
            }
        }
    }

    private fun send() {
        val text = draft.text.toString()
        val node = pollen() ?: return
        if (text.isBlank()) return
        draft.setText("")
        runThenRefresh(scope, node, report) { it.sendIn(conversationId, text) }
    }

    /** Notifications for this chat off or back on (Rust keeps the flag and honours it). */
    private fun toggleMute() = runThenRefresh(scope, pollen(), report) { it.setChatMuted(conversationId, !muted) }

    /** A direct chat's contact blocked (their messages dropped, no receipts) or let in again; the core keeps the list. */
    private fun toggleBlock() = runThenRefresh(scope, pollen(), report) { if (blocked) it.unblock(chatTitle) else it.block(chatTitle) }

    override suspend fun refresh(pollen: Pollen) {
        val chat = pollen.chatList().firstOrNull { it.conversationId == conversationId }
        muted = chat?.muted ?: false
        members.visibility = if (chat?.kind == ConversationKind.GROUP) android.view.View.VISIBLE else android.view.View.GONE
        blocked = chat?.kind == ConversationKind.DIRECT && pollen.blocked().any { it.alias == chatTitle }
        block.text = if (blocked) "Unblock" else "Block"
        block.visibility = if (chat?.kind == ConversationKind.DIRECT) android.view.View.VISIBLE else android.view.View.GONE
        mute.text = if (muted) "Unmute" else "Mute"
        val offset = TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 1000
        val items = pollen.timeline(conversationId, limit = 100, utcOffsetSecs = offset)
        this.items = items
        val texts = items.mapNotNull { (it as? TimelineEntry.Message)?.message }.associate { it.id to it.text }
        val attachments = items.mapNotNull { (it as? TimelineEntry.Message)?.message?.attachment }
        for (a in attachments) loadPicture(pollen, a)
        adapter.rows = items.map { Row(line(it, texts), (it as? TimelineEntry.Message)?.message?.attachment) }
        pollen.markChatRead(conversationId)
        pollWhileComing(pollen, attachments)
    }

    /** A whole picture decoded from the core's file (downsampled), else the sender's thumbnail, into [pictures]. */
    private suspend fun loadPicture(pollen: Pollen, a: AttachmentInfo) {
        val whole = a.kind == AttachmentKind.IMAGE && a.state == AttachmentState.WHOLE
        val key = if (whole) a.blobId else THUMB + a.blobId
        if (pictures.get(key) != null || key in undecodable) return
        val picture = if (whole) {
            val path = pollen.attachmentFile(a.blobId, AttachmentProvider.dir(context).path)
            withContext(Dispatchers.IO) { decodeSampled(File(path), INLINE_SIDE) }
        } else if (a.thumbnail.isNotEmpty()) {
            withContext(Dispatchers.IO) { BitmapFactory.decodeByteArray(a.thumbnail, 0, a.thumbnail.size) }
        } else {
            null
        }
        if (picture == null) undecodable += key else pictures.put(key, picture)
    }

    /**
     * While an attachment is on its way and the chat is on screen, looks
     * again every second: the core sends no event when a chunk arrives.
     */
    private fun pollWhileComing(pollen: Pollen, attachments: List<AttachmentInfo>) {
        val coming = attachments.any { it.state == AttachmentState.COMING || it.state == AttachmentState.WIFI_ONLY }
        if (!coming || !view.isAttachedToWindow || polling?.isActive == true) return
        polling = scope.launch {
            delay(POLL_MS)
            polling = null
            if (view.isAttachedToWindow && this@ChatScreen.pollen() === pollen && !pollen.isClosed) {
                runCatching { refresh(pollen) }.onFailure { if (!pollen.isClosed) report(it) }
            }
        }
    }

    /** One timeline row: its line of text (what [toString] gives, and what the tests read) and the message's attachment. */
    class Row(val text: String, val attachment: AttachmentInfo?) {
        override fun toString() = text
    }

    /** The timeline's rows: a line, and under it an attachment's picture, progress ring and the core's label. */
    private inner class TimelineAdapter : BaseAdapter() {
        var rows: List<Row> = emptyList()
            set(value) {
                field = value
                notifyDataSetChanged()
            }

        override fun getCount() = rows.size

        override fun getItem(position: Int): Row = rows[position]

        override fun getItemId(position: Int) = position.toLong()

        override fun getView(position: Int, convertView: View?, parent: ViewGroup?): View {
            val row = rows[position]
            val holder = (convertView?.tag as? RowViews) ?: RowViews()
            holder.text.text = row.text
            val a = row.attachment
            holder.attachment.visibility = if (a == null) View.GONE else View.VISIBLE
            if (a != null) {
                val picture = pictures.get(if (a.kind == AttachmentKind.IMAGE && a.state == AttachmentState.WHOLE) a.blobId else THUMB + a.blobId)
                holder.image.setImageBitmap(picture)
                holder.image.visibility = if (picture == null) View.GONE else View.VISIBLE
                val coming = a.state == AttachmentState.COMING || a.state == AttachmentState.WIFI_ONLY
                holder.ring.visibility = if (coming) View.VISIBLE else View.GONE
                holder.ring.progress = a.percent.toInt()
                holder.label.text = if (a.kind == AttachmentKind.AUDIO && a.state == AttachmentState.WHOLE) "▶ ${a.label}" else a.label
                holder.attachment.setOnClickListener { tapAttachment(a) }
            }
            return holder.root
        }
    }

    /** The views of one row, made once and reused. */
    private inner class RowViews {
        val text = context.label().apply {
            id = ROW_TEXT_ID
            setPadding(16, 16, 16, 8)
        }
        val image = ImageView(context).apply {
            id = ATTACHMENT_IMAGE_ID
            adjustViewBounds = true
            maxHeight = INLINE_SIDE
            maxWidth = INLINE_SIDE
            scaleType = ImageView.ScaleType.FIT_START
        }
        val ring = ProgressBar(context, null, 0, android.R.style.Widget_Material_ProgressBar_Horizontal).apply {
            id = ATTACHMENT_RING_ID
            isIndeterminate = false
            max = 100
            progressDrawable = RingDrawable(0xFF3F51B5.toInt())
        }
        val label = context.label(size = 13f).apply {
            id = ATTACHMENT_LABEL_ID
            setPadding(12, 0, 0, 0)
        }
        val attachment = LinearLayout(context).apply {
            id = ATTACHMENT_ID
            orientation = LinearLayout.VERTICAL
            setPadding(16, 0, 16, 16)
            isClickable = true
            addView(image, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT))
            addView(
                LinearLayout(context).apply {
                    orientation = LinearLayout.HORIZONTAL
                    gravity = android.view.Gravity.CENTER_VERTICAL
                    addView(ring, LinearLayout.LayoutParams(RING_PX, RING_PX))
                    addView(label, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT))
                },
            )
        }
        val root = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            // The row itself stays tappable (select for reply, react…); the attachment takes its own taps.
            descendantFocusability = ViewGroup.FOCUS_BLOCK_DESCENDANTS
            addView(text)
            addView(attachment)
            tag = this@RowViews
        }
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The message field. */
        const val DRAFT_ID = 0x7f0a0201

        /** The send button. */
        const val SEND_ID = 0x7f0a0202

        /** The timeline list. */
        const val TIMELINE_ID = 0x7f0a0203

        /** The mute / unmute button. */
        const val MUTE_ID = 0x7f0a0204

        /** The reply button. */
        const val REPLY_ID = 0x7f0a0205

        /** The react button. */
        const val REACT_ID = 0x7f0a0206

        /** The edit button. */
        const val EDIT_ID = 0x7f0a0207

        /** The delete button. */
        const val DELETE_ID = 0x7f0a0208

        /** What the selected message is. */
        const val SELECTED_ID = 0x7f0a0209

        /** The group's members button. */
        const val MEMBERS_ID = 0x7f0a020a

        /** A direct chat's block / unblock button. */
        const val BLOCK_ID = 0x7f0a020b

        /** The needs-and-offers board button. */
        const val BOARD_ID = 0x7f0a020c

        /** The attach (photo or file) button. */
        const val ATTACH_ID = 0x7f0a020d

        /** The record / stop-and-send voice note button. */
        const val RECORD_ID = 0x7f0a020e

        /** In a timeline row: the message's line. */
        const val ROW_TEXT_ID = 0x7f0a020f

        /** In a timeline row: the attachment (picture, ring, label); a tap asks for it or opens it. */
        const val ATTACHMENT_ID = 0x7f0a0210

        /** In a timeline row: the whole picture, or the sender's thumbnail. */
        const val ATTACHMENT_IMAGE_ID = 0x7f0a0211

        /** In a timeline row: the progress ring while the attachment comes. */
        const val ATTACHMENT_RING_ID = 0x7f0a0212

        /** In a timeline row: the core's line about the attachment. */
        const val ATTACHMENT_LABEL_ID = 0x7f0a0213

        /** The record button's texts. */
        const val RECORD = "Record"

        /** While recording. */
        const val STOP = "Stop & send"

        private const val THUMB = "thumbnail:"
        private const val INLINE_SIDE = 480
        private const val RING_PX = 48
        private const val POLL_MS = 1_000L
        private const val PICTURE_CACHE_BYTES = 24 * 1024 * 1024

        /** The emoji the react button adds (or, when already ours, removes). */
        const val REACTION = "👍"

        /** One timeline item as a line of text; [texts] (id → text) quotes what a reply answers. */
        fun line(item: TimelineEntry, texts: Map<String, String> = emptyMap()): String = when (item) {
            is TimelineEntry.Day -> "— ${item.label} —"
            is TimelineEntry.Message -> message(item.message, texts)
        }

        /** The app model words the text, reactions and byline; this only lays them out. */
        private fun message(m: TimelineMessageInfo, texts: Map<String, String> = emptyMap()): String {
            val reactions = if (m.reactionsLine.isEmpty()) "" else " ${m.reactionsLine}"
            val answers = m.replyTo?.let { "↪ \"${texts[it]?.take(QUOTE) ?: "…"}\" " } ?: ""
            return "${m.byline}: $answers${m.shownText}$reactions"
        }

        private const val QUOTE = 24
    }
}
