package org.pollen.app

import android.app.Activity
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.ServiceConnection
import android.os.IBinder
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import org.pollen.android.PollenService

/** The node run by [PollenService], started and bound by [activity]. */
class ServiceMesh(private val activity: Activity) : MeshConnection {
    private var connection: ServiceConnection? = null

    override val hasIdentity: Boolean get() = PollenService.hasIdentity(activity)

    override suspend fun connect(name: String?): MeshNode {
        PollenService.start(activity, name)
        val bound = CompletableDeferred<PollenService>()
        val c = object : ServiceConnection {
            override fun onServiceConnected(component: ComponentName?, binder: IBinder?) {
                bound.complete((binder as PollenService.LocalBinder).service)
            }

            override fun onServiceDisconnected(component: ComponentName?) = Unit
        }
        if (activity.bindService(Intent(activity, PollenService::class.java), c, Context.BIND_AUTO_CREATE)) {
            connection = c
        }
        val service = bound.await()
        return MeshNode(service.node.filterNotNull().first(), service.notifier)
    }

    override fun disconnect() {
        connection?.let(activity::unbindService)
        connection = null
    }
}
