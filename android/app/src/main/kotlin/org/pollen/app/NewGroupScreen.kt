package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ListView
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.pollen.android.Pollen

/** A group's name and the contacts to add: the core creates it (this phone as admin) and the chat opens. */
class NewGroupScreen(
    context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
    private val openChat: (conversationId: String, title: String) -> Unit,
) : Screen {
    override val title = "New group"
    private val name = EditText(context).apply {
        id = NAME_ID
        hint = "Group name"
    }
    private val adapter = ArrayAdapter<String>(context, android.R.layout.simple_list_item_multiple_choice)
    private val members = ListView(context).apply {
        id = MEMBERS_ID
        choiceMode = ListView.CHOICE_MODE_MULTIPLE
        adapter = this@NewGroupScreen.adapter
    }
    private var aliases = emptyList<String>()

    override val view = context.column(
        name,
        context.label("Members"),
        members,
        context.button("Create") { create() },
    ).apply { (getChildAt(2).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    private fun create() {
        val node = pollen() ?: return
        val title = name.text.toString().trim()
        val chosen = aliases.filterIndexed { i, _ -> members.isItemChecked(i) }
        scope.launch {
            try {
                val group = node.createGroup(title, chosen)
                openChat(group.id, group.name)
            } catch (e: Exception) {
                // The core says what is wrong (no name, no members, a name taken).
                report(e)
            }
        }
    }

    override suspend fun refresh(pollen: Pollen) {
        val contacts = pollen.contacts().map { it.alias }
        if (contacts == aliases) return
        aliases = contacts
        adapter.clear()
        adapter.addAll(contacts)
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The group's name. */
        const val NAME_ID = 0x7f0a0601

        /** The contacts to choose members from. */
        const val MEMBERS_ID = 0x7f0a0602
    }
}
