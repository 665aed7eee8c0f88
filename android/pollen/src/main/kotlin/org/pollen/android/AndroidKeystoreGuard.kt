package org.pollen.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import uniffi.pollen.KeyGuard

/**
 * Seals the identity secret with an AES-256-GCM key that never leaves the
 * Android Keystore (hardware-backed where the phone has it), so the database
 * alone does not give the identity. The key is made once under [alias];
 * a sealed value is the 12-byte IV, then the ciphertext and its tag. The
 * core decides what is sealed and fails closed when opening fails.
 */
class AndroidKeystoreGuard(private val alias: String = "pollen-identity") : KeyGuard {
    private fun key(): SecretKey {
        val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).run {
            init(spec)
            generateKey()
        }
    }

    override fun seal(plain: ByteArray): ByteArray = AesGcm.seal(key(), plain)

    override fun unseal(sealed: ByteArray): ByteArray = AesGcm.open(key(), sealed)

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
    }
}

/** AES-GCM with the IV in front, as [AndroidKeystoreGuard] stores it (the Keystore picks the IV). */
object AesGcm {
    private const val IV_BYTES = 12
    private const val TAG_BITS = 128

    /** The IV, then the ciphertext and its tag. */
    fun seal(key: SecretKey, plain: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, key) }
        return cipher.iv + cipher.doFinal(plain)
    }

    /** Opens [seal]'s output; throws when the key or the bytes are wrong. */
    fun open(key: SecretKey, sealed: ByteArray): ByteArray {
        require(sealed.size > IV_BYTES) { "sealed identity too short" }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, sealed, 0, IV_BYTES))
        return cipher.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
    }
}
