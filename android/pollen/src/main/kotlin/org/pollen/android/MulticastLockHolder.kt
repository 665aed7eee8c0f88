package org.pollen.android

import android.content.Context
import android.net.wifi.WifiManager

/**
 * Holds Wi-Fi's multicast lock while the mesh runs: without it many devices
 * filter the multicast packets mDNS discovery lives on.
 */
class MulticastLockHolder(context: Context) {
    private val lock: WifiManager.MulticastLock? =
        (context.applicationContext.getSystemService(Context.WIFI_SERVICE) as? WifiManager)
            ?.createMulticastLock(TAG)
            ?.apply { setReferenceCounted(false) }

    /** Whether the lock is held now. */
    val isHeld: Boolean get() = lock?.isHeld == true

    /** Takes the lock (no-op without Wi-Fi). */
    fun acquire() {
        lock?.acquire()
    }

    /** Lets it go. */
    fun release() {
        if (lock?.isHeld == true) lock.release()
    }

    private companion object {
        const val TAG = "pollen-mdns"
    }
}
