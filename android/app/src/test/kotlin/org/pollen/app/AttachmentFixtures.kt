package org.pollen.app

import android.content.ContentProvider
import android.content.ContentValues
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import java.awt.Color
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.FileNotFoundException
import java.util.concurrent.ConcurrentHashMap
import javax.imageio.ImageIO

// What the attachment journeys need from a phone: a document provider the
// picker returns URIs of, a picture, and a microphone.

/**
 * The documents app behind the system picker: `content://` URIs with a
 * display name, a size and a media type, read through the ContentResolver
 * as a real picker's are.
 */
class TestDocuments : ContentProvider() {
    override fun onCreate() = true

    private fun doc(uri: Uri) = docs[uri.lastPathSegment] ?: throw FileNotFoundException("$uri")

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        val (file, _) = doc(uri)
        val columns = projection ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        return MatrixCursor(columns).apply {
            addRow(columns.map { if (it == OpenableColumns.DISPLAY_NAME) file.name else if (it == OpenableColumns.SIZE) file.length() else null })
        }
    }

    override fun getType(uri: Uri): String = doc(uri).second

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor =
        ParcelFileDescriptor.open(doc(uri).first, ParcelFileDescriptor.MODE_READ_ONLY)

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?) = 0

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?) = 0

    /** The documents offered, by name. */
    companion object {
        /** The provider's authority. */
        const val AUTHORITY = "org.pollen.test.documents"

        private val docs = ConcurrentHashMap<String, Pair<File, String>>()

        /** Offers [file] as a document of type [mime]; its URI. */
        fun offer(file: File, mime: String): Uri {
            docs[file.name] = file to mime
            return Uri.parse("content://$AUTHORITY/${file.name}")
        }
    }
}

/** A PNG of [width] × [height]: a sky over a sea, made by the JVM (no Android in it). */
fun png(width: Int, height: Int): ByteArray {
    val image = BufferedImage(width, height, BufferedImage.TYPE_INT_RGB)
    val g = image.createGraphics()
    g.color = Color(0x87, 0xCE, 0xEB)
    g.fillRect(0, 0, width, height / 2)
    g.color = Color(0x1E, 0x5A, 0x8C)
    g.fillRect(0, height / 2, width, height - height / 2)
    g.color = Color.WHITE
    g.fillOval(width / 3, height / 2 - height / 8, width / 3, height / 8)
    g.dispose()
    return ByteArrayOutputStream().also { ImageIO.write(image, "png", it) }.toByteArray()
}

/** A microphone for tests: writes [bytes] when recording starts and says the note was [lengthMs] long. */
class FakeVoiceRecorder : VoiceRecorder {
    /** What a recording holds. */
    var bytes: ByteArray = ByteArray(3_000) { (it * 31 % 251).toByte() }

    /** The length a recording claims. */
    var lengthMs = 3_200L

    /** The file being recorded, if any. */
    @Volatile var recording: File? = null
        private set

    /** Recordings started so far. */
    var started = 0
        private set

    override fun start(file: File) {
        file.writeBytes(bytes)
        recording = file
        started++
    }

    override fun stop(): Long? {
        recording ?: return null
        recording = null
        return lengthMs
    }

    override fun cancel() {
        recording?.delete()
        recording = null
    }
}
