package org.pollen.app

import android.app.AlertDialog
import android.content.Context
import android.widget.ArrayAdapter
import android.widget.LinearLayout
import android.widget.ListView
import kotlinx.coroutines.CoroutineScope
import org.pollen.android.Pollen
import uniffi.pollen.GroupMembersInfo

/**
 * A group's members from the app model. Its admin adds a contact by tapping
 * it, and removes a member by tapping them and confirming; the core refuses
 * what is not allowed, with the reason.
 */
class GroupMembersScreen(
    private val context: Context,
    /** The group's conversation id (hex). */
    val conversationId: String,
    private val group: String,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = "$group: members"
    private val memberRows = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private val addableRows = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var shown: GroupMembersInfo? = null
    private val addHeader = context.label("Tap a contact to add them (they read what is sent from then on)", 14f)

    override val view = context.column(
        context.label(title, 20f),
        ListView(context).apply {
            id = MEMBERS_ID
            adapter = memberRows
            setOnItemClickListener { _, _, position, _ -> askToRemove(position) }
        },
        addHeader,
        ListView(context).apply {
            id = ADDABLE_ID
            adapter = addableRows
            setOnItemClickListener { _, _, position, _ -> add(position) }
        },
    ).apply {
        listOf(1, 3).forEach { (getChildAt(it).layoutParams as LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }
    }

    private fun add(position: Int) {
        val alias = shown?.addable?.getOrNull(position) ?: return
        change { it.addMember(conversationId, alias) }
    }

    /** Only the admin may remove, and only a contact (not themselves): others' taps do nothing. */
    private fun askToRemove(position: Int) {
        val info = shown ?: return
        val member = info.members.getOrNull(position) ?: return
        val alias = member.alias ?: return
        if (!info.adminIsMe) return
        AlertDialog.Builder(context)
            .setMessage("Remove $alias from $group? They will not read what is sent from now on.")
            .setPositiveButton("Remove") { _, _ -> change { it.removeMember(conversationId, alias) } }
            .setNegativeButton("Keep", null)
            .show()
    }

    private fun change(action: suspend (Pollen) -> Unit) = runThenRefresh(scope, pollen(), report, action)

    override suspend fun refresh(pollen: Pollen) {
        val info = pollen.groupMembers(conversationId)
        shown = info
        memberRows.clear()
        memberRows.addAll(info.members.map { if (it.isAdmin) "${it.name} (admin)" else it.name })
        addableRows.clear()
        addableRows.addAll(info.addable)
        addHeader.visibility = if (info.addable.isEmpty()) android.view.View.GONE else android.view.View.VISIBLE
    }

    /** View ids the UI tests find views by. */
    companion object {
        /** The members. */
        const val MEMBERS_ID = 0x7f0a0801

        /** The contacts the admin could add. */
        const val ADDABLE_ID = 0x7f0a0802
    }
}
