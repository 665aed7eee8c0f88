//! Set-ups several of the app model's tests share.

use crate::board::{self, ItemKind};
use pollen_node::Node;
use pollen_node::node::SystemClock;

/// Ana's phone.
pub(crate) struct Phone {
    pub(crate) _root: tempfile::TempDir,
    pub(crate) dir: std::path::PathBuf,
    pub(crate) ana: Node,
    pub(crate) board: String,
    pub(crate) plan: String,
}

/// Ana, with a board and a plan shared with Chen, and a board Chen made
/// that Ana may only read.
pub(crate) fn phone() -> Phone {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a");
    let ana = Node::init(&dir, "Ana", Box::new(SystemClock)).unwrap();
    let chen = Node::init(&root.path().join("c"), "Chen", Box::new(SystemClock)).unwrap();
    ana.add_contact(&chen.card(), None).unwrap();
    let board = board::create(&ana, "Chen", "Street", &[]).unwrap().to_hex();
    board::post(&ana, &board, ItemKind::Need, "water, 20 l").unwrap();
    let plan = ana
        .create_doc("Chen", "doc", "Plan", &[], &[])
        .unwrap()
        .to_hex();
    Phone {
        _root: root,
        dir,
        ana,
        board,
        plan,
    }
}
