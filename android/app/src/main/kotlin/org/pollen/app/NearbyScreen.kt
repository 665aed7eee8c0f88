package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.ListView
import org.pollen.android.Pollen

/** Who is in reach now, what this phone carries and when it last reached the internet: the core's words, drawn. */
class NearbyScreen(context: Context) : Screen {
    override val title = "Nearby"
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    override val view = ListView(context).apply {
        id = LINES_ID
        adapter = this@NearbyScreen.adapter
    }

    override suspend fun refresh(pollen: Pollen) {
        val lines = pollen.nearby().lines
        adapter.clear()
        adapter.addAll(lines)
    }

    companion object {
        /** The list of the summary's lines. */
        const val LINES_ID = 0x7f0a0501
    }
}
