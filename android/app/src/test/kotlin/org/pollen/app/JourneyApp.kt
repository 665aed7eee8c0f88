package org.pollen.app

import android.app.Activity
import android.app.Application
import android.content.Context
import java.util.concurrent.ConcurrentHashMap

/**
 * The application under the journey test: each [MainActivity] gets the
 * connection named by its intent's [WHO] extra, so that two apps, each with
 * its own node, live in one JVM.
 */
class JourneyApp : Application(), MeshProvider, VoiceRecorder.Provider {
    /** Connections by person. */
    val connections = ConcurrentHashMap<String, MeshConnection>()

    /** The microphone every app here records from (Robolectric's MediaRecorder writes no file). */
    val microphone = FakeVoiceRecorder()

    override fun voiceRecorder(context: Context): VoiceRecorder = microphone

    override fun meshFor(activity: Activity): MeshConnection {
        val who = activity.intent.getStringExtra(WHO) ?: error("no $WHO extra on ${activity.intent}")
        return connections[who] ?: error("no connection for $who")
    }

    /** The extra naming whose app an activity is. */
    companion object {
        /** Whose app: a key of [connections]. */
        const val WHO = "org.pollen.app.test.WHO"
    }
}
