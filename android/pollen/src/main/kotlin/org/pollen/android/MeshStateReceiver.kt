package org.pollen.android

import android.bluetooth.BluetoothAdapter
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build
import android.os.PowerManager

/**
 * The platform states the running mesh follows: Bluetooth switched on or off
 * (the BLE transport stops and starts with it), the screen on or off, and
 * the battery saver switched on or off (the power mode is asked again).
 * It only translates broadcasts; [PollenService] acts on them.
 */
class MeshStateReceiver(
    private val bluetooth: (on: Boolean) -> Unit,
    private val screen: (on: Boolean) -> Unit,
    private val batterySaver: () -> Unit = {},
) : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        when (intent.action) {
            BluetoothAdapter.ACTION_STATE_CHANGED ->
                when (intent.getIntExtra(BluetoothAdapter.EXTRA_STATE, BluetoothAdapter.ERROR)) {
                    BluetoothAdapter.STATE_ON -> bluetooth(true)
                    // Stop at TURNING_OFF: links can still say goodbye then.
                    BluetoothAdapter.STATE_TURNING_OFF, BluetoothAdapter.STATE_OFF -> bluetooth(false)
                }
            Intent.ACTION_SCREEN_ON -> screen(true)
            Intent.ACTION_SCREEN_OFF -> screen(false)
            PowerManager.ACTION_POWER_SAVE_MODE_CHANGED -> batterySaver()
        }
    }

    /** Registers with [context] for the broadcasts above (system ones: not exported). */
    fun register(context: Context) {
        val filter = IntentFilter().apply {
            addAction(BluetoothAdapter.ACTION_STATE_CHANGED)
            addAction(Intent.ACTION_SCREEN_ON)
            addAction(Intent.ACTION_SCREEN_OFF)
            addAction(PowerManager.ACTION_POWER_SAVE_MODE_CHANGED)
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            context.registerReceiver(this, filter, Context.RECEIVER_NOT_EXPORTED)
        } else {
            context.registerReceiver(this, filter)
        }
    }
}
