package org.pollen.android

import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.ServiceConnection
import android.os.IBinder
import android.os.Parcel

/**
 * What another app on the phone uses to reach Pollen's shared documents (a
 * needs-and-offers board, a plan) through Pollen's [SharedDocsService]. It
 * depends on the Android framework only: copy this file into your app.
 *
 * Two gates, both the user's:
 * 1. the Android permission [PERMISSION] (`protectionLevel="dangerous"`):
 *    declare `<uses-permission android:name="org.pollen.permission.SHARED_DOCUMENTS" />`,
 *    add `<queries><package android:name="org.pollen.app" /></queries>`
 *    (Android 11+ package visibility) and ask for it at runtime with
 *    `requestPermissions(arrayOf(PollenDocsClient.PERMISSION), …)`; without
 *    it Android refuses the binding;
 * 2. in Pollen's Settings the user lets your app (by its package name) read
 *    one document, or read and change it. Until then every call answers
 *    [DENIED], whether or not the document exists.
 *
 * ```
 * val connection = PollenDocsClient.bind(context) { docs ->
 *     thread {                                  // calls block: never on the main thread
 *         val list = docs.listDocs()            // [{"id","app","title","writable","updated_at"}]
 *         if (list.ok) { … }
 *         val board = docs.readDoc(id)          // the document's content as JSON
 *         docs.changeDoc(id, """[{"op":"set","path":"items/x1","value":{"kind":"offer","text":"bread","status":"open"}}]""")
 *     }
 * }
 * …
 * context.unbindService(connection)
 * ```
 *
 * The wire (no AIDL): each call is one [IBinder.transact] with the interface
 * token [DESCRIPTOR], then the caller's package name, then the call's
 * arguments as strings; the reply holds an `Int` status ([OK] or a refusal)
 * and a `String` (the JSON asked for, or the refusal's reason).
 */
class PollenDocsClient(
    private val binder: IBinder,
    /** This app's package name: Pollen checks it belongs to the calling uid. */
    private val packageName: String,
) {
    /** One answer: [status] ([OK] or a refusal code) and [body] (JSON, or the reason). */
    data class Reply(val status: Int, val body: String) {
        /** Whether the call was answered. */
        val ok: Boolean get() = status == OK
    }

    /** The documents this app was granted, as a JSON list. */
    fun listDocs(): Reply = call(TRANSACTION_LIST)

    /** A granted document's content as JSON ([docId]: its full id from [listDocs]). */
    fun readDoc(docId: String): Reply = call(TRANSACTION_READ, docId)

    /**
     * One change to a document this app may change: [editsJson] is a list of
     * `{"op":"set"|"push","path":"a/b","value":…}` and `{"op":"delete","path":"a/b"}`.
     */
    fun changeDoc(docId: String, editsJson: String): Reply = call(TRANSACTION_CHANGE, docId, editsJson)

    private fun call(code: Int, vararg args: String): Reply {
        val data = Parcel.obtain()
        val reply = Parcel.obtain()
        try {
            data.writeInterfaceToken(DESCRIPTOR)
            data.writeString(packageName)
            args.forEach(data::writeString)
            binder.transact(code, data, reply, 0)
            return Reply(reply.readInt(), reply.readString().orEmpty())
        } finally {
            data.recycle()
            reply.recycle()
        }
    }

    /** The contract both sides keep. */
    companion object {
        /** The permission Android asks the user for, per app. */
        const val PERMISSION = "org.pollen.permission.SHARED_DOCUMENTS"

        /** The service's intent action. */
        const val ACTION = "org.pollen.action.SHARED_DOCUMENTS"

        /** Pollen's package. */
        const val POLLEN_PACKAGE = "org.pollen.app"

        /** The interface token every request starts with. */
        const val DESCRIPTOR = "org.pollen.android.SharedDocuments"

        /** List the documents granted: no arguments. */
        const val TRANSACTION_LIST = IBinder.FIRST_CALL_TRANSACTION

        /** Read one: its id. */
        const val TRANSACTION_READ = IBinder.FIRST_CALL_TRANSACTION + 1

        /** Change one: its id, the edits as JSON. */
        const val TRANSACTION_CHANGE = IBinder.FIRST_CALL_TRANSACTION + 2

        /** Answered; the body is the JSON asked for ("" for a change). */
        const val OK = 0

        /** The user has not let this app use this document (or there is no such document). */
        const val DENIED = 1

        /** This app may read the document, not change it. */
        const val READ_ONLY = 2

        /** The phone's user may not write this document, so no app there may. */
        const val NOT_WRITER = 3

        /** The caller does not hold [PERMISSION]. */
        const val NO_PERMISSION = 4

        /** The package named is not the calling app's. */
        const val NOT_CALLER = 5

        /** Malformed: an unknown call, bad edits, a bad package name. */
        const val BAD_REQUEST = 6

        /** Pollen's node is not running (open Pollen once). */
        const val NOT_RUNNING = 7

        /** Pollen failed (storage). */
        const val FAILED = 8

        /** Binds Pollen's service; [connected] gets the client once Android has bound it. Returns the connection to unbind. */
        fun bind(context: Context, connected: (PollenDocsClient) -> Unit): ServiceConnection {
            val connection = object : ServiceConnection {
                override fun onServiceConnected(name: ComponentName?, service: IBinder) {
                    connected(PollenDocsClient(service, context.packageName))
                }

                override fun onServiceDisconnected(name: ComponentName?) {}
            }
            val intent = Intent(ACTION).setPackage(POLLEN_PACKAGE)
            check(context.bindService(intent, connection, Context.BIND_AUTO_CREATE)) { "Pollen is not installed, or $PERMISSION is not granted" }
            return connection
        }
    }
}
