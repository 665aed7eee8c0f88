package org.pollen.app

import android.graphics.Bitmap
import android.graphics.Color
import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.EncodeHintType
import com.google.zxing.NotFoundException
import com.google.zxing.RGBLuminanceSource
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader
import com.google.zxing.qrcode.QRCodeWriter

/** Contact cards as QR codes, with ZXing's core (no camera library needed). */
object QrCodes {
    /** A QR code of [text], [size] pixels square. */
    fun encode(text: String, size: Int = 720): Bitmap {
        // Cards are bech32: upper case fits QR's denser alphanumeric mode.
        val matrix = QRCodeWriter().encode(
            text.uppercase(), BarcodeFormat.QR_CODE, size, size, mapOf(EncodeHintType.MARGIN to 2),
        )
        val pixels = IntArray(size * size) { i -> if (matrix[i % size, i / size]) Color.BLACK else Color.WHITE }
        return Bitmap.createBitmap(pixels, size, size, Bitmap.Config.ARGB_8888)
    }

    /** The text of a QR code in [photo], or null if none is readable. */
    fun decode(photo: Bitmap): String? {
        val pixels = IntArray(photo.width * photo.height)
        photo.getPixels(pixels, 0, photo.width, 0, 0, photo.width, photo.height)
        val source = RGBLuminanceSource(photo.width, photo.height, pixels)
        return try {
            QRCodeReader().decode(BinaryBitmap(HybridBinarizer(source))).text.lowercase()
        } catch (_: NotFoundException) {
            null
        } catch (_: com.google.zxing.ReaderException) {
            null
        }
    }
}
