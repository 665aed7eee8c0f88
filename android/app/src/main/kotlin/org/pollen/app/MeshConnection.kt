package org.pollen.app

import android.app.Activity
import kotlinx.coroutines.flow.Flow
import org.pollen.android.MessageNotifier
import org.pollen.android.Pollen

/**
 * Where an activity gets its node from: the foreground service on a phone
 * ([ServiceMesh]); under a test, a node of the test's own (two apps in one
 * JVM each need theirs, which one process-wide service cannot give).
 */
interface MeshConnection {
    /** Whether this device already has an identity; if not, the first-run screen asks for a name. */
    val hasIdentity: Boolean

    /**
     * Starts the mesh, creating the identity called [name] on first run. The
     * flow gives the running node; null while there is none (not yet, or the
     * node was lost: its service stopped or died), then the next one. It
     * fails if the mesh cannot start; collecting stops lets go of the node
     * (on a phone the service keeps running it).
     */
    fun connect(name: String?): Flow<MeshNode?>
}

/** A running node and the notifier that posts its messages. */
class MeshNode(
    /** The node. */
    val pollen: Pollen,
    /** Posts its messages' notifications; told which chat is on screen. */
    val notifier: MessageNotifier,
    /** Told when the app comes to the front or leaves it (the radio's power mode follows). */
    val inFront: (Boolean) -> Unit = {},
    /** Told when the user changed the transports allowed (the radios follow). */
    val transportsChanged: () -> Unit = {},
    /** Panic wipe: stops the mesh and erases every file of the node for good; the next start is a first run. */
    val wipe: suspend () -> Unit = {},
)

/** An [android.app.Application] that supplies its activities' connections (tests do). */
interface MeshProvider {
    /** The connection [activity] uses. */
    fun meshFor(activity: Activity): MeshConnection
}
