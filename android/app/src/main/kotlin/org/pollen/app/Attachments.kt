package org.pollen.app

import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.graphics.Canvas
import android.graphics.ColorFilter
import android.graphics.Paint
import android.graphics.PixelFormat
import android.graphics.RectF
import android.graphics.drawable.Drawable
import android.net.Uri
import android.provider.OpenableColumns
import java.io.ByteArrayOutputStream
import java.io.File
import uniffi.pollen.FileToSend
import uniffi.pollen.attachmentLimits

// The platform's half of attachments: files in, pictures out. What an
// attachment is and how far it got come from the core.

/** A picked document: copied into [dir] (the core reads paths, the picker gives URIs), with its name and type from the ContentResolver. */
fun Context.copyPicked(uri: Uri, dir: File): FileToSend {
    var name: String? = null
    runCatching {
        contentResolver.query(uri, arrayOf(OpenableColumns.DISPLAY_NAME), null, null, null)?.use { c ->
            if (c.moveToFirst()) name = c.getString(0)
        }
    }
    val shown = name?.takeIf { it.isNotBlank() } ?: uri.lastPathSegment?.substringAfterLast('/')?.takeIf { it.isNotBlank() } ?: "file"
    val mime = contentResolver.getType(uri).orEmpty()
    val limits = attachmentLimits()
    dir.mkdirs()
    val copy = File.createTempFile("send-", ".tmp", dir)
    try {
        contentResolver.openInputStream(uri).use { input ->
            checkNotNull(input) { "cannot read $uri" }
            // One byte past the core's largest file is enough for it to refuse
            // the file with its reason; a huge video is never copied whole.
            copy.outputStream().use { out ->
                val buffer = ByteArray(COPY_BUFFER)
                var left = limits.maxFileBytes.toLong() + 1
                while (left > 0) {
                    val n = input.read(buffer, 0, minOf(buffer.size.toLong(), left).toInt())
                    if (n < 0) break
                    out.write(buffer, 0, n)
                    left -= n
                }
            }
        }
    } catch (e: Exception) {
        copy.delete()
        throw e
    }
    return FileToSend(path = copy.path, name = shown, mime = mime, durationMs = null, thumbnail = thumbnailOf(copy, limits.maxThumbnailBytes.toInt()))
}

private const val COPY_BUFFER = 64 * 1024

/** Longest side of a thumbnail, in pixels. */
const val THUMBNAIL_SIDE = 160

/**
 * A JPEG of at most [THUMBNAIL_SIDE] px a side and [maxBytes] (the core's
 * limit, `attachmentLimits()`), if [file] decodes as a picture (else empty:
 * the core shows the name and size).
 */
fun thumbnailOf(file: File, maxBytes: Int = attachmentLimits().maxThumbnailBytes.toInt()): ByteArray {
    val bitmap = decodeSampled(file, THUMBNAIL_SIDE) ?: return ByteArray(0)
    val scale = THUMBNAIL_SIDE.toFloat() / maxOf(bitmap.width, bitmap.height)
    val small = if (scale < 1f) {
        Bitmap.createScaledBitmap(bitmap, maxOf(1, (bitmap.width * scale).toInt()), maxOf(1, (bitmap.height * scale).toInt()), true)
    } else {
        bitmap
    }
    for (quality in intArrayOf(80, 65, 50, 35, 20, 10)) {
        val out = ByteArrayOutputStream()
        if (!small.compress(Bitmap.CompressFormat.JPEG, quality, out)) break
        if (out.size() in 1..maxBytes) return out.toByteArray()
    }
    return ByteArray(0)
}

/** [file] decoded at no less than [side] px on its longest side when it is larger (a power-of-two step down), or null if it is not a picture. */
fun decodeSampled(file: File, side: Int): Bitmap? {
    val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
    BitmapFactory.decodeFile(file.path, bounds)
    if (bounds.outWidth <= 0 || bounds.outHeight <= 0) return null
    var sample = 1
    while (maxOf(bounds.outWidth, bounds.outHeight) / (sample * 2) >= side) sample *= 2
    return BitmapFactory.decodeFile(file.path, BitmapFactory.Options().apply { inSampleSize = sample })
}

/** A determinate progress ring: the framework has only an indeterminate circular style. Drawn from the level ProgressBar sets (0..10000). */
class RingDrawable(color: Int, private val stroke: Float = 6f) : Drawable() {
    private val track = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        style = Paint.Style.STROKE
        strokeWidth = stroke
        this.color = color
        alpha = 60
    }
    private val arc = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        style = Paint.Style.STROKE
        strokeWidth = stroke
        strokeCap = Paint.Cap.ROUND
        this.color = color
    }
    private val oval = RectF()

    override fun draw(canvas: Canvas) {
        val b = bounds
        val side = minOf(b.width(), b.height()) - stroke
        oval.set(b.exactCenterX() - side / 2, b.exactCenterY() - side / 2, b.exactCenterX() + side / 2, b.exactCenterY() + side / 2)
        canvas.drawOval(oval, track)
        canvas.drawArc(oval, -90f, 360f * level / 10_000f, false, arc)
    }

    override fun onLevelChange(level: Int): Boolean {
        invalidateSelf()
        return true
    }

    override fun setAlpha(alpha: Int) {
        arc.alpha = alpha
    }

    override fun setColorFilter(colorFilter: ColorFilter?) {
        arc.colorFilter = colorFilter
        track.colorFilter = colorFilter
    }

    @Deprecated("Framework API")
    override fun getOpacity(): Int = PixelFormat.TRANSLUCENT
}
