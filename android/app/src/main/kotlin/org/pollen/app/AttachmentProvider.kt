package org.pollen.app

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import java.io.File
import java.io.FileNotFoundException

/**
 * Lets another app (a viewer, a player) read a whole attachment the core
 * wrote into [dir] (`ChatScreen` opens it with `ACTION_VIEW` and a one-time
 * read grant). The app has no AndroidX, hence this instead of FileProvider:
 * read-only, not exported, one flat directory, names only (no paths).
 */
class AttachmentProvider : ContentProvider() {
    override fun onCreate(): Boolean = true

    private fun fileOf(uri: Uri): File {
        val name = uri.lastPathSegment
        if (uri.pathSegments.size != 1 || name.isNullOrEmpty() || name.startsWith(".") || '/' in name) {
            throw FileNotFoundException("no attachment $uri")
        }
        val file = File(dir(context!!), name)
        if (!file.isFile) throw FileNotFoundException("no attachment $uri")
        return file
    }

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        if (mode != "r") throw SecurityException("attachments are read-only")
        return ParcelFileDescriptor.open(fileOf(uri), ParcelFileDescriptor.MODE_READ_ONLY)
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        val file = fileOf(uri)
        val columns = projection ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        return MatrixCursor(columns, 1).apply {
            addRow(columns.map { if (it == OpenableColumns.SIZE) file.length() else if (it == OpenableColumns.DISPLAY_NAME) file.name else null })
        }
    }

    // The viewer is told the type in the intent.
    override fun getType(uri: Uri): String? = null

    override fun insert(uri: Uri, values: ContentValues?): Uri? = throw UnsupportedOperationException()

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = throw UnsupportedOperationException()

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException()

    /** Where whole attachments are written, and the URI another app reads one by. */
    companion object {
        /** The provider's authority (the manifest declares it). */
        const val AUTHORITY = "org.pollen.app.attachments"

        /** The directory the core writes whole attachments into (`attachmentFile`), in the app's cache. */
        fun dir(context: Context): File = File(context.cacheDir, "attachments").apply { mkdirs() }

        /** The URI of [file], one of [dir]'s. */
        fun uriFor(file: File): Uri = Uri.Builder().scheme("content").authority(AUTHORITY).appendPath(file.name).build()
    }
}
