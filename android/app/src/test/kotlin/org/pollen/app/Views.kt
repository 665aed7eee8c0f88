package org.pollen.app

import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.ListView
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowToast

// Finding and waiting on views from UI tests.

/** This view and every view under it. */
fun View.all(): List<View> =
    listOf(this) + if (this is ViewGroup) (0 until childCount).flatMap { getChildAt(it).all() } else emptyList()

/** The one button labelled [text]. */
fun View.button(text: String): Button = all().filterIsInstance<Button>().single { it.text.toString() == text }

/** What a list shows, one string per row. */
fun ListView.lines(): List<String> = (0 until (adapter?.count ?: 0)).map { adapter.getItem(it).toString() }

/**
 * Runs the main looper until [done] holds, failing after [timeoutMs] (the
 * nodes answer on their own threads, so time passes for real). Returns the
 * milliseconds it waited, for the log.
 */
fun until(what: String, timeoutMs: Long = 20_000, done: () -> Boolean): Long {
    val start = System.currentTimeMillis()
    val deadline = start + timeoutMs
    while (!done()) {
        // The app shows its errors as toasts: one means a step failed.
        assertNull("the app reported an error", ShadowToast.getTextOfLatestToast())
        assertTrue("timed out waiting for $what", System.currentTimeMillis() < deadline)
        shadowOf(Looper.getMainLooper()).idle()
        Thread.sleep(5)
    }
    return System.currentTimeMillis() - start
}
