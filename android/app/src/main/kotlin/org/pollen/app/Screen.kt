package org.pollen.app

import android.view.View
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen

/** One tab of the app: a view, refreshed from the node when shown or when events arrive. */
interface Screen {
    /** Tab label. */
    val title: String

    /** The screen's root view (made once). */
    val view: View

    /** Reloads what the screen shows. */
    suspend fun refresh(pollen: Pollen)
}

/**
 * Runs [action] on the node in [scope], then reloads this screen; a refusal
 * or failure goes to [report] (the core's error says why). Nothing happens
 * without a node.
 */
fun Screen.runThenRefresh(scope: CoroutineScope, pollen: Pollen?, report: (Throwable) -> Unit, action: suspend (Pollen) -> Unit) {
    val node = pollen ?: return
    scope.launch {
        try {
            action(node)
            refresh(node)
        } catch (e: Exception) {
            report(e)
        }
    }
}
