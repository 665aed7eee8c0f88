//! Automerge 0.12 panics on some malformed changes (its parser on a counter
//! that does not fit 32 bits, its apply on objects a change's dependencies
//! never made). Pollen catches those panics and refuses the change
//! (`conversation::parse_change`, `shared_docs::load`/`applies`), but
//! libfuzzer-sys's panic hook aborts on every panic, caught or not. This
//! hook lets a panic raised inside Automerge pass; one that escapes the
//! catch still reaches libfuzzer-sys's `catch_unwind` and aborts, and any
//! other panic aborts at once.

use std::sync::Once;

/// Installs the hook once.
pub fn tolerate_caught_automerge_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().contains("/automerge-"))
            {
                return;
            }
            aborting(info);
        }));
    });
}
