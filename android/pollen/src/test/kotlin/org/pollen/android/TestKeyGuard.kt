package org.pollen.android

import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import uniffi.pollen.KeyGuard

/**
 * The service's key guard under Robolectric, which has no Android Keystore:
 * the same AES-GCM sealing ([AesGcm]) with a key held in this JVM, so a
 * restarted service reopens what an earlier one sealed.
 */
class TestKeyGuard(private val key: SecretKey = newKey()) : KeyGuard {
    override fun seal(plain: ByteArray): ByteArray = AesGcm.seal(key, plain)

    override fun unseal(sealed: ByteArray): ByteArray = AesGcm.open(key, sealed)

    /** One key per test JVM, given to every service the tests start. */
    companion object {
        private val shared by lazy { TestKeyGuard() }

        /** A new random AES-256 key. */
        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

        /** Makes the service seal with [shared]. */
        fun install() {
            PollenService.keyGuard = { shared }
        }
    }
}
