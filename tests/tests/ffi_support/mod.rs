//! What the tests of nodes built through `pollen-ffi` share.

use pollen_ffi::PollenNode;
use pollen_ffi::records::{MessageStatus, RunOptions};

/// Runs one of the FFI's async calls to completion on this thread.
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// The status of the newest message with this text, if the node shows one.
#[allow(dead_code)] // not every test binary follows a message
pub fn status_of(node: &PollenNode, text: &str) -> Option<MessageStatus> {
    let page = node.messages(None, 100, None).expect("messages");
    page.messages
        .into_iter()
        .find(|m| m.text == text)
        .map(|m| m.status)
}

/// Runtime options with no LAN at all: the node reaches others only through
/// platform links (and relays).
#[allow(dead_code)] // not every test binary starts a node offline
pub fn offline() -> RunOptions {
    RunOptions {
        lan: false,
        listen: String::new(),
        mdns: false,
        peers: Vec::new(),
    }
}

/// Runtime options on loopback only, with no mDNS: these `peers` alone.
#[allow(dead_code)]
pub fn loopback(peers: Vec<String>) -> RunOptions {
    RunOptions {
        lan: true,
        listen: "127.0.0.1:0".into(),
        mdns: false,
        peers,
    }
}
