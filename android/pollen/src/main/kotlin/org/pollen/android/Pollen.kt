package org.pollen.android

import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.withContext
import uniffi.pollen.BlePowerMode
import uniffi.pollen.ChatInfo
import uniffi.pollen.NotificationInfo
import uniffi.pollen.TimelineEntry
import uniffi.pollen.BleRadio
import uniffi.pollen.AppGrantInfo
import uniffi.pollen.AttachmentInfo
import uniffi.pollen.AutoFetchLimits
import uniffi.pollen.FileToSend
import uniffi.pollen.BlockedInfo
import uniffi.pollen.BoardItemInfo
import uniffi.pollen.BoardItemKind
import uniffi.pollen.DocSummary
import uniffi.pollen.ContactInfo
import uniffi.pollen.DeliveryReceipts
import uniffi.pollen.ConversationInfo
import uniffi.pollen.ExportInfo
import uniffi.pollen.GroupMembersInfo
import uniffi.pollen.IdentityInfo
import uniffi.pollen.ImportInfo
import uniffi.pollen.NearbyInfo
import uniffi.pollen.RelaySyncInfo
import uniffi.pollen.KeyChangeInfo
import uniffi.pollen.KeyGuard
import uniffi.pollen.MessageCursor
import uniffi.pollen.MessagePage
import uniffi.pollen.NodeStatus
import uniffi.pollen.PlatformTransport
import uniffi.pollen.PollenException
import uniffi.pollen.PollenNode
import uniffi.pollen.RunOptions
import uniffi.pollen.SentInfo
import uniffi.pollen.SettingsInfo
import uniffi.pollen.TransportsInfo

/**
 * A Pollen node for Kotlin: `suspend` functions, a [Flow][kotlinx.coroutines.flow.Flow]
 * of [events], and [close] that shuts the core down. Errors are thrown as
 * [PollenException] subclasses.
 */
class Pollen private constructor(
    private val node: PollenNode,
    private val io: CoroutineDispatcher,
) : AutoCloseable {
    private val closed = AtomicBoolean(false)
    private val eventFlow = MutableSharedFlow<PollenEvent>(extraBufferCapacity = EVENT_BUFFER)

    /** Whether [close] was called: every call fails from then on. */
    val isClosed: Boolean get() = closed.get()

    /** Events from the core, in order, to every collector subscribed at the time. */
    val events: SharedFlow<PollenEvent> = eventFlow.asSharedFlow()

    init {
        node.setListener(EventForwarder(eventFlow))
    }

    /** Constructors that touch the disk, hence suspending. */
    companion object {
        private const val EVENT_BUFFER = 256

        /** Creates a new identity called [name] in [dataDir]. */
        suspend fun create(dataDir: String, name: String, io: CoroutineDispatcher = Dispatchers.IO): Pollen =
            withContext(io) { Pollen(PollenNode.create(dataDir, name), io) }

        /** Opens the identity in [dataDir]. */
        suspend fun open(dataDir: String, io: CoroutineDispatcher = Dispatchers.IO): Pollen =
            withContext(io) { Pollen(PollenNode.open(dataDir), io) }

        /** Opens the identity in [dataDir], creating one called [name] on first use (the core's rule); with [guard] its secret is kept sealed by the phone's keystore ([AndroidKeystoreGuard]). */
        suspend fun openOrCreate(
            dataDir: String,
            name: String,
            guard: KeyGuard? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): Pollen = withContext(io) {
            val node = if (guard == null) PollenNode.openOrCreate(dataDir, name) else PollenNode.openOrCreateGuarded(dataDir, name, guard)
            Pollen(node, io)
        }
    }

    // The core serialises calls on its own thread and blocks the caller until
    // done; running them on `io` keeps that wait off the caller's thread.
    private suspend fun <T> call(block: PollenNode.() -> T): T = withContext(io) { node.block() }

    /** Our name, fingerprint and contact card. */
    suspend fun identity(): IdentityInfo = call { identity() }

    /** Our contact card (`pollen1…`), to show as a QR code. */
    suspend fun card(): String = call { card() }

    /** Pins the keys of a scanned [card], under [alias] or the card's name. */
    suspend fun addContact(card: String, alias: String? = null): ContactInfo = call { addContact(card, alias) }

    /** Every contact. */
    suspend fun contacts(): List<ContactInfo> = call { contacts() }

    /** The safety number to compare with [alias] in person. */
    suspend fun safetyNumber(alias: String): String = call { safetyNumber(alias) }

    /** Records that [alias]'s safety number was compared in person. */
    suspend fun markVerified(alias: String): ContactInfo = call { markVerified(alias) }

    /** Forgets a contact. */
    suspend fun removeContact(alias: String): Unit = call { removeContact(alias) }

    /** Key changes that were refused, newest first. */
    suspend fun keyChanges(): List<KeyChangeInfo> = call { keyChanges() }

    /** Sends [text] to a conversation by name: an alias, a group or `#channel`. */
    suspend fun send(conversation: String, text: String): SentInfo = call { send(conversation, text) }

    /** Sends [text] into the conversation with this id (hex): never ambiguous. */
    suspend fun sendIn(conversationId: String, text: String): SentInfo = call { sendIn(conversationId, text) }

    /** Sends [text] to a pinned contact. */
    suspend fun sendDirect(alias: String, text: String): SentInfo = call { sendDirect(alias, text) }

    /** Sends a file (photo, voice note, any file) with [text] into the chat with this id; the core refuses files over 16 MiB and thumbnails over 8 KiB. */
    suspend fun sendFile(conversationId: String, file: FileToSend, text: String): SentInfo = call { sendFile(conversationId, file, text) }

    /** Asks for an attachment (blob id): its chunks are kept and asked for, over any link, until it is whole. */
    suspend fun fetchAttachment(blobId: String): AttachmentInfo = call { fetchAttachment(blobId) }

    /** Writes a whole attachment to [path]; returns its size. Refused while chunks are missing. */
    suspend fun saveAttachment(blobId: String, path: String): ULong = call { saveAttachment(blobId, path) }

    /** The whole attachment as a file in [dir] (written once, named by the core); refused while chunks are missing. */
    suspend fun attachmentFile(blobId: String, dir: String): String = call { attachmentFile(blobId, dir) }

    /** The largest attachments from contacts fetched without asking, over Bluetooth and over Wi-Fi. */
    suspend fun autoFetchLimits(): AutoFetchLimits = call { autoFetchLimits() }

    /** Sets those limits; returns what the core kept. */
    suspend fun setAutoFetchLimits(limits: AutoFetchLimits): AutoFetchLimits = call { setAutoFetchLimits(limits) }

    /** Replies to a message (id or unique hex prefix). */
    suspend fun reply(messageId: String, text: String): SentInfo = call { reply(messageId, text) }

    /** Edits one of our messages. */
    suspend fun edit(messageId: String, text: String): SentInfo = call { edit(messageId, text) }

    /** Reacts to a message; an empty [emoji] removes our reaction. */
    suspend fun react(messageId: String, emoji: String): SentInfo = call { react(messageId, emoji) }

    /** Deletes one of our messages. */
    suspend fun delete(messageId: String): SentInfo = call { delete(messageId) }

    /** Marks a conversation read; null if there was nothing to mark. */
    suspend fun markRead(conversation: String): SentInfo? = call { markRead(conversation) }

    /** Marks the chat with this id read: the chat screen's call, never ambiguous; nothing new writes nothing. */
    suspend fun markChatRead(conversationId: String): SentInfo? = call { markChatRead(conversationId) }

    /** Creates a group with contacts [members] (by alias). */
    suspend fun createGroup(name: String, members: List<String>): ConversationInfo =
        call { createGroup(name, members) }

    /** Removes a member from a group we administer ([group]: its id or name); returns the new epoch. */
    suspend fun removeMember(group: String, alias: String): UInt = call { removeMember(group, alias) }

    /** Adds contact [alias] to the group [conversationId] we administer; returns the new epoch. */
    suspend fun addMember(conversationId: String, alias: String): UInt = call { addMember(conversationId, alias) }

    /** The members of the group [conversationId], and whom we could add. */
    suspend fun groupMembers(conversationId: String): GroupMembersInfo = call { groupMembers(conversationId) }

    /** The needs-and-offers boards shared into a conversation (null: every board). */
    suspend fun boards(conversationId: String?): List<DocSummary> = call { boards(conversationId) }

    /** Starts a board in a chat that everyone in it may post to; returns its id. */
    suspend fun startBoard(conversationId: String, title: String): String = call { startBoard(conversationId, title) }

    /** A board's items, open ones first. */
    suspend fun boardItems(boardId: String): List<BoardItemInfo> = call { boardItems(boardId) }

    /** Posts a need or an offer; returns the item's id. */
    suspend fun postToBoard(boardId: String, kind: BoardItemKind, text: String): String = call { postToBoard(boardId, kind, text) }

    /** Marks a board item done. */
    suspend fun markBoardItemDone(boardId: String, itemId: String): Unit = call { markBoardItemDone(boardId, itemId) }

    /** Lets the app [app] (a package name) read [docId], or read and change it ([write]). */
    suspend fun grantAppAccess(app: String, docId: String, write: Boolean): AppGrantInfo = call { grantAppAccess(app, docId, write) }

    /** Takes [app]'s access to [docId] back; whether it had any. */
    suspend fun revokeAppAccess(app: String, docId: String): Boolean = call { revokeAppAccess(app, docId) }

    /** Every app's access to shared documents, by app. */
    suspend fun appAccessGrants(): List<AppGrantInfo> = call { appAccessGrants() }

    /** Every shared document, the most recently changed first. */
    suspend fun docs(): List<DocSummary> = call { docs() }

    /** For another app ([SharedDocsService]): the documents granted to [app], as JSON. */
    suspend fun docsJsonForApp(app: String): String = call { docsJsonForApp(app) }

    /** For another app: a granted document's content as JSON; refused without a grant. */
    suspend fun docJsonForApp(app: String, docId: String): String = call { docJsonForApp(app, docId) }

    /** For another app: one change (edits as JSON) to a document it may change. */
    suspend fun changeDocForAppJson(app: String, docId: String, editsJson: String): Unit =
        call { changeDocForAppJson(app, docId, editsJson) }

    /** Joins a public channel. */
    suspend fun joinChannel(name: String): ConversationInfo = call { joinChannel(name) }

    /** Conversations, most recent first. */
    suspend fun conversations(limit: Int = 100): List<ConversationInfo> = call { conversations(limit.toUInt()) }

    /** A page of messages, newest first; pass the page's `next` to continue. */
    suspend fun messages(conversation: String?, limit: Int = 50, before: MessageCursor? = null): MessagePage =
        call { messages(conversation, limit.toUInt(), before) }

    /** The chat list from the app model, newest first. */
    suspend fun chatList(limit: Int = 100): List<ChatInfo> = call { chatList(limit.toUInt()) }

    /** A chat's timeline, oldest first, with day separators for [utcOffsetSecs]. */
    suspend fun timeline(conversationId: String, limit: Int = 100, utcOffsetSecs: Int = 0): List<TimelineEntry> =
        call { timeline(conversationId, limit.toUInt(), null, utcOffsetSecs) }

    /** Opens the direct chat with a contact, even before any message. */
    suspend fun openChatWithContact(alias: String): ChatInfo = call { openChatWithContact(alias) }

    /** Adds the contact on a scanned or pasted card or `pollen:` link. */
    suspend fun addContactFromInput(input: String, alias: String? = null): ContactInfo =
        call { addContactFromInput(input, alias) }

    /** The notification a new message warrants, if any (Rust decides). */
    suspend fun notificationForMessage(conversationId: String, messageId: String, openChat: String?): NotificationInfo? =
        call { notificationForMessage(conversationId, messageId, openChat) }

    /** Turns notifications for a chat off or back on. */
    suspend fun setChatMuted(conversationId: String, muted: Boolean): Unit = call { setChatMuted(conversationId, muted) }

    /** Counts and network state. */
    suspend fun status(): NodeStatus = call { status() }

    /** The Nearby screen's summary (who is in reach, what is carried), worded by the core. */
    suspend fun nearby(): NearbyInfo = call { nearby() }

    /** Writes everything a stranger may carry to a bundle file. */
    suspend fun exportBundle(path: String): ExportInfo = node.exportBundle(path)

    /** Reads a bundle file. */
    suspend fun importBundle(path: String): ImportInfo = node.importBundle(path)

    /** Saves the relays (`pollen-relay://HOST:PORT/KEY`) the mesh reaches from its next start; a bad one throws. */
    suspend fun setRelays(addresses: List<String>): List<String> = call { setRelays(addresses) }

    /** Saves one more relay after those saved (read and written in one step); a bad one throws. */
    suspend fun addRelay(address: String): List<String> = call { addRelay(address) }

    /** The relays saved. */
    suspend fun relays(): List<String> = call { relays() }

    /** Turns encounter routing on or off (kept by the core; see `bindings/API.md`). */
    suspend fun setEncounterRouting(on: Boolean) = call { setEncounterRouting(on) }

    /** Whether encounter routing is on. */
    suspend fun encounterRouting(): Boolean = call { encounterRouting() }

    /** How delivery receipts are sent: batched (the default), immediate or off; kept by the core. */
    suspend fun setDeliveryReceipts(mode: DeliveryReceipts) = call { setDeliveryReceipts(mode) }

    /** How delivery receipts are sent. */
    suspend fun deliveryReceipts(): DeliveryReceipts = call { deliveryReceipts() }

    /** Whether opening a chat tells the others how far this phone has read (on by default). */
    suspend fun setReadReceipts(on: Boolean) = call { setReadReceipts(on) }

    /** Whether read receipts are on. */
    suspend fun readReceipts(): Boolean = call { readReceipts() }

    /** Every switch and list of the Settings screen, read at once. */
    suspend fun settings(): SettingsInfo = call { settings() }

    /** Blocks a contact (alias) or anyone (signing key hex): their messages are dropped here without a delivery proof. */
    suspend fun block(who: String): String = call { block(who) }

    /** Unblocks a contact or key; false if they were not blocked. */
    suspend fun unblock(who: String): Boolean = call { unblock(who) }

    /** Everyone blocked. */
    suspend fun blocked(): List<BlockedInfo> = call { blocked() }

    /** Keeps the screens out of screenshots and the app switcher (the default) or not; kept by the core. */
    suspend fun setScreenPrivate(on: Boolean) = call { setScreenPrivate(on) }

    /** Whether the screens are kept private. */
    suspend fun screenPrivate(): Boolean = call { screenPrivate() }

    /** The transports the user allows (both until one is switched off). */
    suspend fun transports(): TransportsInfo = node.transports()

    /** Saves the transports allowed; the core applies it to the running node (Wi-Fi: restarted without or with the LAN). */
    suspend fun setTransports(allowed: TransportsInfo) = node.setTransports(allowed)

    /** One session with a relay now (a background job's few seconds of network). */
    suspend fun syncRelay(address: String): RelaySyncInfo = node.syncRelay(address)

    /** Starts the runtime: LAN if asked and the platform transport's links. */
    suspend fun start(options: RunOptions): Unit = node.start(options)

    /** Stops the runtime, letting sessions commit. */
    suspend fun stop(): Unit = node.stop()

    /** Whether the runtime runs. */
    fun isRunning(): Boolean = node.isRunning()

    /** Sets (or with null removes) the platform's links: BLE, Bonjour, a test loopback. */
    fun setTransport(transport: PlatformTransport?) = node.setTransport(transport)

    /** The platform opened a link to [peer]; never blocks. */
    fun linkUp(linkId: ULong, peer: String, initiator: Boolean, maxWrite: Int) =
        node.linkUp(linkId, peer, initiator, maxWrite.toUInt())

    /** Bytes read from a link, in order; never blocks. */
    fun linkReceived(linkId: ULong, bytes: ByteArray) = node.linkReceived(linkId, bytes)

    /** The platform lost a link; never blocks. */
    fun linkDown(linkId: ULong) = node.linkDown(linkId)

    /**
     * Starts BLE with [radio], which the core then drives (scan, advertise,
     * connect, send), or with null stops it: links close after committing
     * what arrived. Independent of [start] and [stop].
     */
    suspend fun setBleRadio(radio: BleRadio?): Unit = call { setBleRadio(radio) }

    /** Whether BLE runs on the node (a radio is set). */
    suspend fun bleIsOn(): Boolean = call { bleIsOn() }

    /** An advertisement of the Pollen service was heard; never blocks. */
    fun bleAdvertisement(handle: String, serviceData: ByteArray?, localName: String?) =
        node.bleAdvertisement(handle, serviceData, localName)

    /** A BLE link is up; never blocks. */
    fun bleLinkUp(linkId: ULong, handle: String, central: Boolean, attMtu: UShort) =
        node.bleLinkUp(linkId, handle, central, attMtu)

    /** A BLE connect failed; never blocks. */
    fun bleConnectFailed(handle: String) = node.bleConnectFailed(handle)

    /** A GATT value arrived on a BLE link; never blocks. */
    fun bleReceived(linkId: ULong, value: ByteArray) = node.bleReceived(linkId, value)

    /** [sent] values handed to the radio went out; never blocks. */
    fun bleReady(linkId: ULong, sent: UInt) = node.bleReady(linkId, sent)

    /** A BLE link is gone; never blocks. */
    fun bleLinkDown(linkId: ULong) = node.bleLinkDown(linkId)

    /** Foreground, background or battery saver duty cycle for BLE; never blocks. */
    fun bleSetPower(mode: BlePowerMode) = node.bleSetPower(mode)

    /** Shuts the core down and frees it; later calls throw. Idempotent. */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        try {
            node.setListener(null)
            node.shutdown()
        } finally {
            node.close()
        }
    }
}
