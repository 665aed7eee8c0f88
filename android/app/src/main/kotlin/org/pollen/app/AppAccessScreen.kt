package org.pollen.app

import android.content.Context
import android.widget.ArrayAdapter
import android.widget.ListView
import android.widget.Spinner
import kotlinx.coroutines.CoroutineScope
import org.pollen.android.Pollen
import org.pollen.android.PollenDocsClient
import uniffi.pollen.AppGrantInfo
import uniffi.pollen.DocSummary

/**
 * Other apps on the phone and the shared documents the user lets them use
 * (reached from Settings). The apps offered are those Android says hold
 * Pollen's permission (an app that asked for it and bound Pollen's service
 * is visible here), and those already granted; the user picks an app and a
 * document and lets it read, or read and change; a tap on a grant takes it
 * back. The core keeps and checks the grants (`pollen_app::app_access`);
 * this screen draws them.
 */
class AppAccessScreen(
    private val context: Context,
    private val scope: CoroutineScope,
    private val pollen: () -> Pollen?,
    private val report: (Throwable) -> Unit,
) : Screen {
    override val title = "Other apps"
    private val appRows = ArrayAdapter<String>(context, android.R.layout.simple_spinner_item)
    private val docRows = ArrayAdapter<String>(context, android.R.layout.simple_spinner_item)
    private val grantRows = ArrayAdapter<String>(context, android.R.layout.simple_list_item_1)
    private var docs = emptyList<DocSummary>()
    private var grants = emptyList<AppGrantInfo>()
    private val apps = Spinner(context).apply {
        id = APPS_ID
        adapter = appRows
    }
    private val documents = Spinner(context).apply {
        id = DOCS_ID
        adapter = docRows
    }
    private val granted = ListView(context).apply {
        id = GRANTS_ID
        adapter = grantRows
        setOnItemClickListener { _, _, position, _ -> revoke(position) }
    }

    override val view = context.column(
        context.label("Other apps and shared documents", 20f),
        context.label(EXPLAINED, 12f),
        apps,
        documents,
        context.row(
            context.button(READ) { grant(write = false) }.apply { id = READ_ID },
            context.button(WRITE) { grant(write = true) }.apply { id = WRITE_ID },
        ),
        context.label("Apps with access (tap one to take it back)", 14f),
        granted,
    ).apply { (getChildAt(6).layoutParams as android.widget.LinearLayout.LayoutParams).apply { height = 0; weight = 1f } }

    private fun grant(write: Boolean) {
        val app = apps.selectedItem as? String ?: return
        val doc = docs.getOrNull(documents.selectedItemPosition) ?: return
        runThenRefresh(scope, pollen(), report) { it.grantAppAccess(app, doc.docId, write) }
    }

    private fun revoke(position: Int) {
        val grant = grants.getOrNull(position) ?: return
        runThenRefresh(scope, pollen(), report) { it.revokeAppAccess(grant.app, grant.docId) }
    }

    /** Packages Android says hold the permission (and are visible to Pollen), not Pollen itself. */
    private fun askingApps(): List<String> =
        context.packageManager.getPackagesHoldingPermissions(arrayOf(PollenDocsClient.PERMISSION), 0)
            .map { it.packageName }
            .filter { it != context.packageName }

    override suspend fun refresh(pollen: Pollen) {
        grants = pollen.appAccessGrants()
        docs = pollen.docs()
        val app = apps.selectedItem as? String
        val doc = docs.getOrNull(documents.selectedItemPosition)?.docId
        val names = (askingApps() + grants.map { it.app }).distinct().sorted()
        appRows.clear()
        appRows.addAll(names)
        docRows.clear()
        docRows.addAll(docs.map { "${it.title} (${it.app})" })
        app?.let(names::indexOf)?.takeIf { it >= 0 }?.let(apps::setSelection)
        docs.indexOfFirst { it.docId == doc }.takeIf { it >= 0 }?.let(documents::setSelection)
        grantRows.clear()
        grantRows.addAll(grants.map { it.line })
    }

    /** View ids and labels the UI tests find. */
    companion object {
        /** The apps that may be granted. */
        const val APPS_ID = 0x7f0a0a01

        /** The documents. */
        const val DOCS_ID = 0x7f0a0a02

        /** Grants read. */
        const val READ_ID = 0x7f0a0a03

        /** Grants read and change. */
        const val WRITE_ID = 0x7f0a0a04

        /** The grants, one line each. */
        const val GRANTS_ID = 0x7f0a0a05

        /** The read button's label. */
        const val READ = "Let it read"

        /** The write button's label. */
        const val WRITE = "Let it read and change"

        /** What the screen is for, as the user reads it. */
        const val EXPLAINED = "An app listed here asked Android for Pollen's documents permission. " +
            "It sees only the documents you pick for it, and changes one only if you let it " +
            "and you may change it yourself."
    }
}
