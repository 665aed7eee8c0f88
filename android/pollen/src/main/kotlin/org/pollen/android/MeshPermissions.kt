package org.pollen.android

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build

/** The runtime permissions the mesh needs on a given Android version. */
object MeshPermissions {
    /** Android 17: local-network access became a runtime permission. */
    private const val SDK_LOCAL_NETWORK = 37

    // Spelled out: Manifest.permission has it only from compileSdk 37 on.
    private const val ACCESS_LOCAL_NETWORK = "android.permission.ACCESS_LOCAL_NETWORK"

    /** Permissions to request at runtime on [sdkInt] (the rest are install-time). */
    fun runtime(sdkInt: Int = Build.VERSION.SDK_INT): List<String> = buildList {
        if (sdkInt >= Build.VERSION_CODES.S) {
            // Android 12+: Bluetooth has its own permissions; scanning is
            // declared neverForLocation, so no location permission is needed.
            add(Manifest.permission.BLUETOOTH_SCAN)
            add(Manifest.permission.BLUETOOTH_ADVERTISE)
            add(Manifest.permission.BLUETOOTH_CONNECT)
        } else {
            // Before Android 12 a BLE scan needs location.
            add(Manifest.permission.ACCESS_FINE_LOCATION)
        }
        if (sdkInt >= Build.VERSION_CODES.TIRAMISU) {
            add(Manifest.permission.POST_NOTIFICATIONS)
            add(Manifest.permission.NEARBY_WIFI_DEVICES)
        }
        if (sdkInt >= SDK_LOCAL_NETWORK) add(ACCESS_LOCAL_NETWORK)
    }

    /** Whether the Bluetooth ones among [runtime] are all granted. */
    fun bluetoothGranted(context: Context): Boolean {
        val bluetooth = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            listOf(Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_ADVERTISE, Manifest.permission.BLUETOOTH_CONNECT)
        } else {
            listOf(Manifest.permission.ACCESS_FINE_LOCATION)
        }
        return bluetooth.all { context.checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED }
    }

    /** Those of [runtime] not granted yet. */
    fun missing(context: Context): List<String> = runtime().filter {
        context.checkSelfPermission(it) != PackageManager.PERMISSION_GRANTED
    }
}
