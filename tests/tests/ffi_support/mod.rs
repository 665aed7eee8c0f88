//! What the tests of nodes built through `pollen-ffi` share.

use pollen_ffi::PollenNode;
use pollen_ffi::records::MessageStatus;

/// Runs one of the FFI's async calls to completion on this thread.
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// The status of the newest message with this text, if the node shows one.
pub fn status_of(node: &PollenNode, text: &str) -> Option<MessageStatus> {
    let page = node.messages(None, 100, None).expect("messages");
    page.messages
        .into_iter()
        .find(|m| m.text == text)
        .map(|m| m.status)
}
