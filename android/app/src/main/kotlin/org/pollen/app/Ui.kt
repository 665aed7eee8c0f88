package org.pollen.app

import android.content.Context
import android.view.View
import android.view.ViewGroup.LayoutParams.MATCH_PARENT
import android.view.ViewGroup.LayoutParams.WRAP_CONTENT
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView

// Small builders for views made in code: the app has no layout resources so
// that it compiles without the Android SDK's resource tools.

/** A vertical linear layout filling its parent's width. */
fun Context.column(vararg children: View): LinearLayout = LinearLayout(this).apply {
    orientation = LinearLayout.VERTICAL
    setPadding(24, 24, 24, 24)
    children.forEach { addView(it, LinearLayout.LayoutParams(MATCH_PARENT, WRAP_CONTENT)) }
}

/** A horizontal row; [weighted] children share the width. */
fun Context.row(vararg weighted: View): LinearLayout = LinearLayout(this).apply {
    orientation = LinearLayout.HORIZONTAL
    weighted.forEach { addView(it, LinearLayout.LayoutParams(0, WRAP_CONTENT, 1f)) }
}

/** A text view. */
fun Context.label(text: CharSequence = "", size: Float = 16f): TextView = TextView(this).apply {
    this.text = text
    textSize = size
}

/** A button. */
fun Context.button(text: String, onClick: () -> Unit): Button = Button(this).apply {
    this.text = text
    setOnClickListener { onClick() }
}
