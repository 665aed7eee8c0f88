package org.pollen.app

import android.view.View
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
