package org.pollen.app

import android.content.Context
import android.widget.EditText
import org.pollen.android.Pollen

/** First run: the name others will see, from which the identity is made. */
class FirstRunScreen(context: Context, private val create: (name: String) -> Unit) : Screen {
    override val title = "Welcome"
    private val name = EditText(context).apply {
        id = NAME_ID
        hint = "Your name"
    }

    override val view = context.column(
        context.label("Welcome to Pollen", 22f),
        context.label("Messages travel phone to phone, even without a network. Choose the name your contacts will see."),
        name,
        context.button("Create my identity") {
            val chosen = name.text.toString().trim()
            if (chosen.isNotEmpty()) create(chosen)
        }.apply { id = CREATE_ID },
    )

    override suspend fun refresh(pollen: Pollen) = Unit

    /** View ids the UI tests find views by. */
    companion object {
        /** The name field. */
        const val NAME_ID = 0x7f0a0401

        /** The button that creates the identity. */
        const val CREATE_ID = 0x7f0a0402
    }
}
