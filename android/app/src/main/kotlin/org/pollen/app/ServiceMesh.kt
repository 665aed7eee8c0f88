package org.pollen.app

import android.app.Activity
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.ServiceConnection
import android.os.IBinder
import android.util.Log
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import org.pollen.android.PollenService

/**
 * The node run by [PollenService], started and bound by [activity].
 *
 * The binding follows the service: its node while it runs, null once the
 * service closes it or dies (its node is then closed, and must not be
 * called), and the next node once Android has bound the service again. A
 * binding Android gave up on is bound afresh.
 */
class ServiceMesh(private val activity: Activity) : MeshConnection {
    override val hasIdentity: Boolean get() = PollenService.hasIdentity(activity)

    override fun connect(name: String?): Flow<MeshNode?> = callbackFlow {
        start(name)
        var following: Job? = null
        val intent = Intent(activity, PollenService::class.java)
        val connection = object : ServiceConnection {
            override fun onServiceConnected(component: ComponentName?, binder: IBinder?) {
                val service = (binder as PollenService.LocalBinder).service
                following?.cancel()
                following = launch {
                    launch { close(service.failure.filterNotNull().first()) }
                    service.node.collect { node -> send(node?.let { MeshNode(it, service.notifier, service::setAppInFront, service::transportsChanged) { service.wipe() } }) }
                }
            }

            override fun onServiceDisconnected(component: ComponentName?) {
                // The service is gone and its node closed with it. Android
                // binds again (onServiceConnected) once the service runs;
                // started, it runs and opens the node again.
                following?.cancel()
                following = null
                trySend(null)
                start(null)
            }

            override fun onBindingDied(component: ComponentName?) {
                // Android will not reconnect this binding: bind afresh.
                onServiceDisconnected(component)
                activity.unbindService(this)
                bind(intent, this)
            }
        }
        bind(intent, connection)
        awaitClose { runCatching { activity.unbindService(connection) } }
    }.distinctUntilChanged { a, b -> a?.pollen === b?.pollen }

    private fun bind(intent: Intent, connection: ServiceConnection) {
        if (!activity.bindService(intent, connection, Context.BIND_AUTO_CREATE)) {
            Log.w(TAG, "could not bind $intent")
        }
    }

    private fun start(name: String?) {
        // Android refuses to start a foreground service from the background
        // (12+); the sticky service is then restarted by Android itself.
        runCatching { PollenService.start(activity, name) }.onFailure { Log.w(TAG, "could not start the service", it) }
    }

    private companion object {
        const val TAG = "ServiceMesh"
    }
}
