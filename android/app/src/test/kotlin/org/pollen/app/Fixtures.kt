package org.pollen.app

import android.os.Handler
import android.os.Looper
import java.io.File
import java.nio.file.Files
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.runBlocking
import org.pollen.android.Pollen

/** Runs coroutines on the main looper, as `MainScope` does on a phone. */
object MainLooper : CoroutineDispatcher() {
    private val handler by lazy { Handler(Looper.getMainLooper()) }
    override fun dispatch(context: CoroutineContext, block: Runnable) {
        handler.post(block)
    }
}

/** Ana's and Chen's nodes, each with its own data directory, for the screens' tests. */
class TwoNodes(prefix: String) : AutoCloseable {
    /** Where both data directories live. */
    val dir: File = Files.createTempDirectory(prefix).toFile()

    /** Ana's node. */
    val ana: Pollen = runBlocking { Pollen.create(File(dir, "ana").path, "Ana") }

    /** Chen's node. */
    val chen: Pollen = runBlocking { Pollen.create(File(dir, "chen").path, "Chen") }

    override fun close() {
        ana.close()
        chen.close()
        dir.deleteRecursively()
    }
}
