package org.pollen.android

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent

/** After a reboot, starts the mesh again if this device has an identity (first run done). */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Intent.ACTION_BOOT_COMPLETED) return
        if (PollenService.hasIdentity(context)) PollenService.start(context)
    }
}
