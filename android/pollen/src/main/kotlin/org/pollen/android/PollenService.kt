package org.pollen.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.os.Binder
import android.os.Build
import android.os.IBinder
import android.os.PowerManager
import android.util.Log
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import uniffi.pollen.KeyGuard
import uniffi.pollen.BlePowerMode
import uniffi.pollen.RunOptions
import uniffi.pollen.blePowerMode

/**
 * The foreground service (type `connectedDevice`) that keeps the node and its
 * links running while the app is in the background. Bind to it for the
 * [Pollen] node; start it with [start].
 */
class PollenService : Service() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private val nodeState = MutableStateFlow<Pollen?>(null)
    private val failureState = MutableStateFlow<Throwable?>(null)
    private lateinit var multicast: MulticastLockHolder
    private var starting: Job? = null
    private var ble: org.pollen.android.ble.PollenBle? = null
    private val radioLock = Mutex()
    private val platform = MeshStateReceiver(
        bluetooth = { on -> scope.launch { followBluetooth(on) } },
        screen = { on ->
            screenOn = on
            applyPower()
        },
        batterySaver = { applyPower() },
    )
    @Volatile private var screenOn = true
    @Volatile private var appInFront = false

    /** The BLE power mode last applied (the app model decides it from the screen and the app). */
    @Volatile
    var powerMode: BlePowerMode? = null
        private set

    /** The radio BLE runs on, while it runs (tests read what was asked of Android). */
    val radio: org.pollen.android.ble.PollenBle? get() = ble

    /** The running node once it is open and started; null before and after. */
    val node: StateFlow<Pollen?> = nodeState.asStateFlow()

    /** Why the node could not start, if it could not. */
    val failure: StateFlow<Throwable?> = failureState.asStateFlow()

    /** Posts the node's messages; the app tells it which chat is on screen. */
    lateinit var notifier: MessageNotifier
        private set

    /** Whether the Wi-Fi multicast lock is held (mDNS needs it). */
    val multicastLockHeld: Boolean get() = multicast.isHeld

    /** What a bound client gets: this service. */
    inner class LocalBinder : Binder() {
        /** The service, for its [node]. */
        val service: PollenService get() = this@PollenService
    }

    override fun onCreate() {
        super.onCreate()
        instance = this
        multicast = MulticastLockHolder(this)
        notifier = MessageNotifier(this)
        screenOn = getSystemService(PowerManager::class.java)?.isInteractive ?: true
        platform.register(this)
    }

    override fun onBind(intent: Intent?): IBinder = LocalBinder()

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        goForeground()
        if (starting == null) {
            val name = intent?.getStringExtra(EXTRA_NAME) ?: Build.MODEL ?: "Pollen"
            val lan = intent?.getBooleanExtra(EXTRA_LAN, true) ?: true
            multicast.acquire()
            starting = scope.launch { startNode(name, lan) }
        } else {
            // Started again (the app after a permission was granted): BLE
            // may now be possible where it was not.
            scope.launch { followBluetooth(true) }
        }
        if (intent?.action == ACTION_REPLY) {
            val conversation = intent.getStringExtra(MessageNotifier.EXTRA_CONVERSATION)
            val text = intent.getStringExtra(EXTRA_TEXT)
            if (conversation != null && text != null) scope.launch { sendReply(conversation, text) }
        }
        // Killed with the process, the service is recreated and started
        // again with a null intent: the node reopens its identity.
        return START_STICKY
    }

    private suspend fun startNode(name: String, lan: Boolean) {
        val dir = dataDir(this).apply { mkdirs() }
        try {
            val pollen = Pollen.openOrCreate(dir.path, name, keyGuard())
            try {
                pollen.start(RunOptions(lan = lan, listen = "0.0.0.0:0", mdns = lan, peers = emptyList()))
            } catch (e: Exception) {
                pollen.close()
                throw e
            }
            scope.launch { pollen.events.collect { runCatching { notifier.onEvent(pollen, it) } } }
            nodeState.value = pollen
            applyPower()
            followBluetooth(true)
        } catch (e: Exception) {
            Log.e(TAG, "node did not start", e)
            failureState.value = e
        }
    }

    /** Sends a notification's reply once the node runs; the chat's notification goes (it was answered). */
    private suspend fun sendReply(conversation: String, text: String) {
        val pollen = nodeState.filterNotNull().first()
        runCatching { pollen.sendIn(conversation, text) }
            .onSuccess { notifier.clear(conversation) }
            .onFailure { Log.w(TAG, "reply from a notification", it) }
    }

    /** Starts BLE on the running node when Bluetooth is on, permitted and allowed in Settings, or stops it. */
    private suspend fun followBluetooth(on: Boolean) = radioLock.withLock {
        val pollen = nodeState.value ?: return@withLock
        val radio = ble
        val allowed = runCatching { pollen.transports().bluetooth }.getOrDefault(true)
        if (on && allowed && radio == null) {
            ble = org.pollen.android.ble.BleCores.attach(this, pollen)
        } else if (!(on && allowed) && radio != null) {
            ble = null
            org.pollen.android.ble.BleCores.detach(pollen, radio)
        }
    }

    /**
     * The user changed the transports allowed: the core has already taken
     * the node off or back on the LAN; the Bluetooth radio and the Wi-Fi
     * multicast lock follow here.
     */
    fun transportsChanged() {
        scope.launch {
            val pollen = nodeState.value ?: return@launch
            val wifi = runCatching { pollen.transports().wifi }.getOrDefault(true)
            if (wifi) multicast.acquire() else multicast.release()
            followBluetooth(true)
        }
    }

    /** The app came to the front or left it: the power mode follows. */
    fun setAppInFront(inFront: Boolean) {
        appInFront = inFront
        applyPower()
    }

    /**
     * Asks the app model which BLE power mode the screen, the app and the
     * battery saver call for, and gives it to the node (which keeps it for
     * the next radio while BLE is off, and re-advertises at its interval).
     */
    private fun applyPower() {
        val pollen = nodeState.value ?: return
        val saver = getSystemService(PowerManager::class.java)?.isPowerSaveMode ?: false
        val mode = blePowerMode(screenOn, appInFront, saver)
        runCatching { pollen.bleSetPower(mode) }
            .onSuccess { powerMode = mode }
            .onFailure { Log.w(TAG, "power mode", it) }
    }

    /** Whether BLE runs on the node now (tests and the status line). */
    val bluetoothRunning: Boolean get() = ble != null

    private fun goForeground() {
        val manager = getSystemService(NotificationManager::class.java)
        manager.createNotificationChannel(
            NotificationChannel(CHANNEL, "Mesh", NotificationManager.IMPORTANCE_LOW),
        )
        val notification = Notification.Builder(this, CHANNEL)
            .setContentTitle("Pollen")
            .setContentText("Carrying messages for the mesh")
            .setSmallIcon(android.R.drawable.stat_sys_data_bluetooth)
            .setOngoing(true)
            .build()
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            startForeground(NOTIFICATION_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_CONNECTED_DEVICE)
        } else {
            startForeground(NOTIFICATION_ID, notification)
        }
    }

    /**
     * Panic wipe: stops the mesh, closes the node, erases every file of
     * its data directory (identity, contacts, messages, attachments) for
     * good, clears the notifications and stops the service. The next start
     * is a first run. Returns the number of files erased.
     */
    suspend fun wipe(): ULong {
        withTimeoutOrNull(STOP_TIMEOUT_MS) { starting?.join() }
        val pollen = nodeState.value
        nodeState.value = null
        radioLock.withLock {
            val radio = ble
            ble = null
            if (pollen != null && radio != null) org.pollen.android.ble.BleCores.detach(pollen, radio)
        }
        if (pollen != null) {
            withTimeoutOrNull(STOP_TIMEOUT_MS) { runCatching { pollen.stop() } }
            pollen.close()
        }
        val erased = withContext(Dispatchers.IO) {
            if (hasIdentity(this@PollenService)) uniffi.pollen.wipe(dataDir(this@PollenService).path) else 0UL
        }
        getSystemService(NotificationManager::class.java).cancelAll()
        multicast.release()
        // Started again before Android destroys it, the service opens a new node.
        starting = null
        stopForeground(STOP_FOREGROUND_REMOVE)
        stopSelf()
        return erased
    }

    override fun onDestroy() {
        unregisterReceiver(platform)
        // A node still opening would otherwise be published after we looked.
        runBlocking { withTimeoutOrNull(STOP_TIMEOUT_MS) { starting?.join() } }
        val radio = ble
        ble = null
        nodeState.value?.let { pollen ->
            if (radio != null) {
                runBlocking { org.pollen.android.ble.BleCores.detach(pollen, radio) }
            }
            // Give sessions their chance to commit, bounded so that the main
            // thread is not held hostage by a stuck link.
            runBlocking { withTimeoutOrNull(STOP_TIMEOUT_MS) { runCatching { pollen.stop() } } }
            pollen.close()
        }
        nodeState.value = null
        if (instance === this) instance = null
        multicast.release()
        scope.cancel()
        super.onDestroy()
    }

    /** How to start the service and what it reads from the intent. */
    companion object {
        private const val TAG = "PollenService"
        private const val CHANNEL = "pollen-mesh"
        private const val NOTIFICATION_ID = 1
        private const val DATA_DIR = "pollen"
        private const val STOP_TIMEOUT_MS = 6_000L

        /** Display name for a new identity (first start only). */
        const val EXTRA_NAME = "org.pollen.android.NAME"

        /** Whether to run the LAN transport (default true). */
        const val EXTRA_LAN = "org.pollen.android.LAN"

        /** A start that sends a notification's reply ([reply]). */
        const val ACTION_REPLY = "org.pollen.android.SEND_REPLY"

        /** The reply's text. */
        const val EXTRA_TEXT = "org.pollen.android.TEXT"

        private fun dataDir(context: Context) = File(context.filesDir, DATA_DIR)

        @Volatile
        private var instance: PollenService? = null

        /** The node the service in this process runs, if one runs ([SharedDocsService] answers from it). */
        val running: Pollen? get() = instance?.node?.value

        /**
         * What seals the identity secret: the Android Keystore. Tests under
         * Robolectric, which has no Keystore, give a JVM key instead.
         */
        @Volatile
        var keyGuard: () -> KeyGuard = { AndroidKeystoreGuard() }

        /** Whether an identity was made on this device (the app's first run is over). */
        fun hasIdentity(context: Context): Boolean = dataDir(context).list()?.isNotEmpty() == true

        /** Starts the service in the foreground (call from a visible activity). */
        fun start(context: Context, name: String? = null) {
            val intent = Intent(context, PollenService::class.java)
            if (name != null) intent.putExtra(EXTRA_NAME, name)
            context.startForegroundService(intent)
        }

        /** Sends [text] in [conversation] (a notification's reply), starting the service if need be. */
        fun reply(context: Context, conversation: String, text: String) {
            val intent = Intent(context, PollenService::class.java)
                .setAction(ACTION_REPLY)
                .putExtra(MessageNotifier.EXTRA_CONVERSATION, conversation)
                .putExtra(EXTRA_TEXT, text)
            context.startForegroundService(intent)
        }

        /** Stops it, and with it the node. */
        fun stop(context: Context) {
            context.stopService(Intent(context, PollenService::class.java))
        }
    }
}
