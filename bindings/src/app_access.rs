//! Other apps on the phone and shared documents (`pollen_app::app_access`)
//! across the boundary: the user's grants (per app, per document, read or
//! read and write), and the calls an outside app makes through the
//! platform's service (Android: `SharedDocsService`), each checked against
//! the grants in the core. The platform only names the calling app.

use crate::PollenNode;
use crate::docs::DocEditInfo;
use crate::error::PollenError;
use pollen_app::app_access::{self, AccessError, AppDoc, Grant};

impl From<AccessError> for PollenError {
    fn from(e: AccessError) -> Self {
        let text = e.to_string();
        match e {
            AccessError::BadAppId { app, why } => PollenError::InvalidAppId {
                app,
                why: why.to_owned(),
            },
            AccessError::Denied { app, doc } => PollenError::AppAccessDenied { app, doc_id: doc },
            AccessError::ReadOnly { app, doc } => {
                PollenError::AppAccessReadOnly { app, doc_id: doc }
            }
            AccessError::NotWriter { doc } => PollenError::NotDocWriter { doc_id: doc },
            AccessError::BadEdits(why) => PollenError::InvalidText { why },
            AccessError::Stored(_) => PollenError::Storage { detail: text },
            AccessError::Node(e) => e.into(),
        }
    }
}

/// One app's access to one document, as Settings lists it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AppGrantInfo {
    /// The app (Android package name).
    pub app: String,
    /// The document (hex id).
    pub doc_id: String,
    /// Its title ("" if no longer held).
    pub title: String,
    /// Read and write; `false`: read only.
    pub write: bool,
    /// The line Settings shows ("com.example.notes · Street · read").
    pub line: String,
}

impl From<Grant> for AppGrantInfo {
    fn from(g: Grant) -> Self {
        let title = if g.title.is_empty() {
            "(a document no longer here)"
        } else {
            &g.title
        };
        let access = if g.write { "read and change" } else { "read" };
        AppGrantInfo {
            line: format!("{} · {title} · {access}", g.app),
            app: g.app,
            doc_id: g.doc_id,
            title: g.title,
            write: g.write,
        }
    }
}

/// A document as an outside app sees it listed (no writers, conversations or contacts).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AppDocInfo {
    /// Its id (hex): what the app names it by.
    pub doc_id: String,
    /// What kind of document.
    pub app: String,
    /// Its title.
    pub title: String,
    /// The app may change it now.
    pub writable: bool,
    /// Unix seconds of the last change held.
    pub updated_at: u64,
}

impl From<AppDoc> for AppDocInfo {
    fn from(d: AppDoc) -> Self {
        AppDocInfo {
            doc_id: d.id,
            app: d.app,
            title: d.title,
            writable: d.writable,
            updated_at: d.updated_at,
        }
    }
}

#[uniffi::export]
impl PollenNode {
    /// Lets `app` read `doc_id` (id or unique prefix), or read and change it (`write`).
    pub fn grant_app_access(
        &self,
        app: String,
        doc_id: String,
        write: bool,
    ) -> Result<AppGrantInfo, PollenError> {
        self.write(move |n| Ok(app_access::grant(n, &app, &doc_id, write)?.into()))
    }

    /// Takes `app`'s access to `doc_id` back; whether it had any.
    pub fn revoke_app_access(&self, app: String, doc_id: String) -> Result<bool, PollenError> {
        self.write(move |n| Ok(app_access::revoke(n, &app, &doc_id)?))
    }

    /// Takes every grant of `app` back; how many there were.
    pub fn revoke_all_app_access(&self, app: String) -> Result<u32, PollenError> {
        self.write(move |n| Ok(app_access::revoke_app(n, &app)? as u32))
    }

    /// Every grant, by app, then by document title.
    pub fn app_access_grants(&self) -> Result<Vec<AppGrantInfo>, PollenError> {
        self.read(|n| Ok(app_access::grants(n)?.into_iter().map(Into::into).collect()))
    }

    /// For an outside app: the documents it was granted.
    pub fn docs_for_app(&self, app: String) -> Result<Vec<AppDocInfo>, PollenError> {
        self.read(move |n| {
            Ok(app_access::docs_for_app(n, &app)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// For an outside app: [`PollenNode::docs_for_app`] as JSON text
    /// (`[{"id", "app", "title", "writable", "updated_at"}]`).
    pub fn docs_json_for_app(&self, app: String) -> Result<String, PollenError> {
        self.read(move |n| Ok(app_access::docs_json_for_app(n, &app)?))
    }

    /// For an outside app: a granted document's content as JSON text
    /// (`doc_id` in full); `AppAccessDenied` without a grant.
    pub fn doc_json_for_app(&self, app: String, doc_id: String) -> Result<String, PollenError> {
        self.read(move |n| Ok(app_access::read_for_app(n, &app, &doc_id)?.to_string()))
    }

    /// For an outside app: one change to a document it may write
    /// (`AppAccessReadOnly` with a read grant, `NotDocWriter` where this
    /// phone's user may not write).
    pub fn change_doc_for_app(
        &self,
        app: String,
        doc_id: String,
        edits: Vec<DocEditInfo>,
    ) -> Result<(), PollenError> {
        let edits = crate::docs::edits(edits)?;
        self.write(move |n| Ok(app_access::change_for_app(n, &app, &doc_id, &edits)?))
    }

    /// [`PollenNode::change_doc_for_app`] with the edits as JSON text, as
    /// another app sends them: `[{"op": "set"|"push", "path", "value"},
    /// {"op": "delete", "path"}]`.
    pub fn change_doc_for_app_json(
        &self,
        app: String,
        doc_id: String,
        edits_json: String,
    ) -> Result<(), PollenError> {
        self.write(move |n| {
            let edits = app_access::parse_edits(&edits_json)?;
            Ok(app_access::change_for_app(n, &app, &doc_id, &edits)?)
        })
    }

    /// iOS: the apps that made themselves known in the App Group folder
    /// `root` (a folder each), to offer in the grant screen.
    pub fn app_group_apps(&self, root: String) -> Result<Vec<String>, PollenError> {
        Ok(pollen_app::app_group::apps(std::path::Path::new(&root))?)
    }

    /// iOS: answers the change requests other apps left in the App Group
    /// folder `root`, then writes each app's granted documents there and
    /// removes what it may no longer read (`core/app/src/app_group.rs`).
    pub fn sync_app_group(&self, root: String) -> Result<AppGroupReport, PollenError> {
        self.write(move |n| {
            let r = pollen_app::app_group::sync(n, std::path::Path::new(&root))?;
            Ok(AppGroupReport {
                apps: r.apps,
                docs_written: r.docs_written,
                docs_removed: r.docs_removed,
                applied: r.applied,
                refused: r.refused,
            })
        })
    }
}

/// What one `sync_app_group` did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AppGroupReport {
    /// Apps with at least one grant.
    pub apps: u32,
    /// Document files written.
    pub docs_written: u32,
    /// Document files removed.
    pub docs_removed: u32,
    /// Change requests made.
    pub applied: u32,
    /// Change requests refused, each answered with its reason.
    pub refused: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outside_app_reads_and_writes_only_what_it_was_granted() {
        let root = tempfile::tempdir().unwrap();
        let (ana, _chen, chat) = crate::test_support::ana_and_chen_in_a_chat(root.path());
        let board = ana.start_board(chat, "Street".into()).unwrap();
        let app = "com.example.notes".to_owned();

        let denied = ana.doc_json_for_app(app.clone(), board.clone());
        assert!(
            matches!(denied, Err(PollenError::AppAccessDenied { .. })),
            "{denied:?}"
        );
        assert_eq!(ana.docs_json_for_app(app.clone()).unwrap(), "[]");

        let g = ana
            .grant_app_access(app.clone(), board[..8].into(), false)
            .unwrap();
        assert_eq!((g.doc_id.as_str(), g.write), (board.as_str(), false));
        assert_eq!(g.line, "com.example.notes · Street · read");
        assert_eq!(ana.app_access_grants().unwrap(), [g]);
        let listed = ana.docs_for_app(app.clone()).unwrap();
        assert_eq!(listed[0].title, "Street");
        assert!(!listed[0].writable);
        let json: serde_json::Value =
            serde_json::from_str(&ana.doc_json_for_app(app.clone(), board.clone()).unwrap())
                .unwrap();
        assert_eq!(json["title"], "Street");
        let post = r#"[{"op":"set","path":"items/a1","value":{"kind":"offer","text":"bread","status":"open"}}]"#;
        let read_only = ana.change_doc_for_app_json(app.clone(), board.clone(), post.into());
        assert!(
            matches!(read_only, Err(PollenError::AppAccessReadOnly { .. })),
            "{read_only:?}"
        );

        ana.grant_app_access(app.clone(), board.clone(), true)
            .unwrap();
        ana.change_doc_for_app_json(app.clone(), board.clone(), post.into())
            .unwrap();
        ana.change_doc_for_app(
            app.clone(),
            board.clone(),
            vec![DocEditInfo::Set {
                path: "items/a1/status".into(),
                json: "\"done\"".into(),
            }],
        )
        .unwrap();
        let items = ana.board_items(board.clone()).unwrap();
        assert_eq!(items[0].text, "bread");
        assert!(items[0].done);
        let bad = ana.change_doc_for_app_json(app.clone(), board.clone(), "{".into());
        assert!(
            matches!(bad, Err(PollenError::InvalidText { .. })),
            "{bad:?}"
        );

        assert!(ana.revoke_app_access(app.clone(), board.clone()).unwrap());
        assert!(matches!(
            ana.doc_json_for_app(app.clone(), board.clone()),
            Err(PollenError::AppAccessDenied { .. })
        ));
        assert!(matches!(
            ana.grant_app_access("".into(), board.clone(), false),
            Err(PollenError::InvalidAppId { .. })
        ));
        ana.grant_app_access(app.clone(), board.clone(), false)
            .unwrap();
        // iOS: the same grant, handed out through the App Group folder.
        let group = root.path().join("group");
        let request = serde_json::json!({"doc": board, "edits": serde_json::from_str::<serde_json::Value>(post).unwrap()});
        std::fs::create_dir_all(group.join(&app).join("requests")).unwrap();
        std::fs::write(
            group.join(&app).join("requests/1.json"),
            request.to_string(),
        )
        .unwrap();
        let report = ana
            .sync_app_group(group.to_string_lossy().into_owned())
            .unwrap();
        assert_eq!(
            (
                report.apps,
                report.docs_written,
                report.applied,
                report.refused
            ),
            (1, 1, 0, 1)
        );
        let shared = group.join(&app).join("docs").join(format!("{board}.json"));
        assert!(std::fs::read_to_string(shared).unwrap().contains("Street"));
        let root_s = group.to_string_lossy().into_owned();
        assert_eq!(ana.app_group_apps(root_s).unwrap(), vec![app.clone()]);
        assert_eq!(ana.revoke_all_app_access(app).unwrap(), 1);
        assert!(ana.app_access_grants().unwrap().is_empty());
    }
}
