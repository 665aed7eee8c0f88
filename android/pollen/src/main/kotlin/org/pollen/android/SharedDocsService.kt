package org.pollen.android

import android.app.Service
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Binder
import android.os.IBinder
import android.os.Parcel
import android.util.Log
import kotlinx.coroutines.runBlocking
import org.pollen.android.PollenDocsClient.Companion.BAD_REQUEST
import org.pollen.android.PollenDocsClient.Companion.DENIED
import org.pollen.android.PollenDocsClient.Companion.DESCRIPTOR
import org.pollen.android.PollenDocsClient.Companion.FAILED
import org.pollen.android.PollenDocsClient.Companion.NOT_CALLER
import org.pollen.android.PollenDocsClient.Companion.NOT_RUNNING
import org.pollen.android.PollenDocsClient.Companion.NOT_WRITER
import org.pollen.android.PollenDocsClient.Companion.NO_PERMISSION
import org.pollen.android.PollenDocsClient.Companion.OK
import org.pollen.android.PollenDocsClient.Companion.PERMISSION
import org.pollen.android.PollenDocsClient.Companion.READ_ONLY
import org.pollen.android.PollenDocsClient.Companion.TRANSACTION_CHANGE
import org.pollen.android.PollenDocsClient.Companion.TRANSACTION_LIST
import org.pollen.android.PollenDocsClient.Companion.TRANSACTION_READ
import uniffi.pollen.PollenException

/**
 * The bound service other apps on the phone reach shared documents through
 * (exported, guarded by [PollenDocsClient.PERMISSION]; the wire is described
 * on [PollenDocsClient]). It only says who is calling: the caller's uid,
 * from [Binder.getCallingUid], must hold the permission and own the package
 * the request names; that package is the app id the core checks its grants
 * against (`pollen_app::app_access`). What the app may see or change is
 * decided there, never here.
 *
 * It answers from the node [PollenService] runs (see [node]); while none
 * runs, every call answers [PollenDocsClient.NOT_RUNNING].
 */
class SharedDocsService : Service() {
    private val binder = object : Binder() {
        override fun onTransact(code: Int, data: Parcel, reply: Parcel?, flags: Int): Boolean {
            if (code !in TRANSACTION_LIST..TRANSACTION_CHANGE) return super.onTransact(code, data, reply, flags)
            val (status, body) = try {
                data.enforceInterface(DESCRIPTOR)
                answer(code, data, Binder.getCallingUid(), Binder.getCallingPid())
            } catch (e: SecurityException) {
                BAD_REQUEST to (e.message ?: "not a Pollen request")
            }
            reply?.writeInt(status)
            reply?.writeString(body)
            return true
        }
    }

    override fun onBind(intent: Intent?): IBinder = binder

    private fun answer(code: Int, data: Parcel, uid: Int, pid: Int): Pair<Int, String> {
        // Android checked the permission at binding; checked again per call,
        // for a binder handed on to an app that does not hold it.
        if (checkPermission(PERMISSION, pid, uid) != PackageManager.PERMISSION_GRANTED) {
            return NO_PERMISSION to "the calling app does not hold $PERMISSION"
        }
        val claimed = data.readString().orEmpty()
        val owned = packageManager.getPackagesForUid(uid).orEmpty()
        val app = when {
            claimed in owned -> claimed
            claimed.isEmpty() && owned.size == 1 -> owned.single()
            else -> return NOT_CALLER to "package ${claimed.take(80)} is not the calling app's"
        }
        val pollen = node() ?: return NOT_RUNNING to "Pollen is not running"
        return try {
            runBlocking {
                when (code) {
                    TRANSACTION_LIST -> OK to pollen.docsJsonForApp(app)
                    TRANSACTION_READ -> OK to pollen.docJsonForApp(app, data.readString().orEmpty())
                    else -> {
                        val doc = data.readString().orEmpty()
                        pollen.changeDocForAppJson(app, doc, data.readString().orEmpty())
                        OK to ""
                    }
                }
            }
        } catch (e: PollenException) {
            refusal(e) to (e.message ?: e.toString())
        } catch (e: Exception) {
            Log.w(TAG, "shared documents for $app", e)
            FAILED to (e.message ?: e.toString())
        }
    }

    /** The core's refusal as a status code on the wire. */
    private fun refusal(e: PollenException): Int = when (e) {
        is PollenException.AppAccessDenied -> DENIED
        is PollenException.AppAccessReadOnly -> READ_ONLY
        is PollenException.NotDocWriter -> NOT_WRITER
        is PollenException.InvalidAppId, is PollenException.InvalidText -> BAD_REQUEST
        is PollenException.ShutDown -> NOT_RUNNING
        else -> FAILED
    }

    /** Where the node comes from. */
    companion object {
        private const val TAG = "SharedDocsService"

        /** The node to answer from: [PollenService]'s running node (tests may give another). */
        @Volatile
        var node: () -> Pollen? = { PollenService.running }
    }
}
