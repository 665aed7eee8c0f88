package org.pollen.app

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.net.Uri
import android.os.PowerManager
import android.provider.Settings

/**
 * Asks, with the reason, to be exempt from battery optimisation: without it
 * many phones stop the mesh's service within minutes of the screen going off.
 */
object BatteryExemption {
    /** Why we ask, shown before Android's own prompt. */
    const val REASON = "Pollen carries messages for you and the people around you while your phone sleeps. " +
        "Without an exemption from battery optimisation, Android stops it within minutes."

    /** Shows the reason and, if accepted, Android's prompt; nothing if already exempt. */
    fun askIfNeeded(activity: Activity) {
        val power = activity.getSystemService(PowerManager::class.java)
        if (power.isIgnoringBatteryOptimizations(activity.packageName)) return
        AlertDialog.Builder(activity)
            .setTitle("Keep the mesh running")
            .setMessage(REASON)
            .setPositiveButton("Allow") { _, _ ->
                activity.startActivity(
                    Intent(Settings.ACTION_REQUEST_IGNORE_BATTERY_OPTIMIZATIONS, Uri.parse("package:${activity.packageName}")),
                )
            }
            .setNegativeButton("Not now", null)
            .show()
    }
}
