package org.pollen.app

import android.graphics.Bitmap
import android.graphics.Color
import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.DecodeHintType
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
        // A camera photo needs the finder-pattern search (tried harder); a
        // saved or shared image of a code is exact, and ZXing's finder search
        // misses some exact codes, which the pure-barcode reading never does.
        val attempts = listOf(
            mapOf(DecodeHintType.TRY_HARDER to true),
            mapOf(DecodeHintType.PURE_BARCODE to true),
        )
        for (hints in attempts) {
            try {
                return QRCodeReader().decode(BinaryBitmap(HybridBinarizer(source)), hints).text.lowercase()
            } catch (_: NotFoundException) {
            } catch (_: com.google.zxing.ReaderException) {
            }
        }
        return null
    }
}
