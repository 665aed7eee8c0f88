//! The blobs each side fetches (session version 6): named, blinded, in
//! `Wanted` messages, so that any holder sends their chunks whatever its
//! copy budget.

use super::{SendItem, Transfer, WANTED_VERSION};
use crate::sync::message::{Blinded, MAX_WANT_IDS, MAX_WANTED_BLOBS, Message};
use crate::sync::session::{Offer, SessionError, SessionStats};
use crate::sync::store::{SyncStore, WantedBlob};
use std::collections::HashSet;

impl Transfer {
    /// The peer's `Wanted`: the first completes its Hello; a later one
    /// names blobs it came to want and lists the chunks of them it lacks.
    pub(super) fn on_wanted(
        &mut self,
        blobs: Vec<Blinded>,
        ids: Vec<[u8; 32]>,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        if self.version < WANTED_VERSION {
            return Err(SessionError::Protocol(
                "wanted blobs in a session before version 6",
            ));
        }
        let late = self.peer_hello;
        let hash = self.hash;
        let new: HashSet<Blinded> = blobs
            .into_iter()
            .filter(|b| !self.peer_wanted.contains(b))
            .collect();
        if self.peer_wanted.len() + new.len() > MAX_WANTED_BLOBS {
            return Err(SessionError::Protocol("too many wanted blobs"));
        }
        self.peer_wanted.extend(new.iter().copied());
        if self.hello_pending.is_some() {
            self.hello_wanted(store, stats)?;
        } else if late
            && !new.is_empty()
            && (self.offer == Offer::Interests || ids.iter().any(|id| !self.local.contains_key(id)))
        {
            // A relay loaded only what was named at first; and chunks
            // stored after the session began (a photo sent while it runs,
            // whose message `take_news` queued) are not listed yet.
            let mut named =
                |blob: &[u8; 32]| new.contains(&crate::sync::session::blind_blob(&hash, blob));
            for item in store.chunks_matching(&mut named)? {
                self.local.entry(item.id).or_insert(item);
            }
        }
        for id in ids {
            // Chunks of a blob the peer came to want after
            // reconciliation: sent if held, whatever was reconciled.
            if self.local.contains_key(&id) {
                self.enqueue(SendItem::Local(id), store)?;
            }
        }
        Ok(())
    }

    /// Names, in a `Wanted` message, the blobs of `wanted` not named yet in
    /// this session; `late` (after reconciliation) also lists the chunks of
    /// them this side lacks, which reconciliation no longer finds. Sent even
    /// when empty as the first one, which completes this side's Hello.
    pub(super) fn announce(
        &mut self,
        wanted: &[WantedBlob],
        late: bool,
        store: &mut dyn SyncStore,
    ) -> Result<(), SessionError> {
        let first = self.announced.is_empty() && !late;
        let room = MAX_WANTED_BLOBS.saturating_sub(self.announced.len());
        let (mut blobs, mut ids) = (Vec::new(), Vec::new());
        for w in wanted {
            if self.announced.contains(&w.blob) {
                continue;
            }
            if blobs.len() == room {
                break;
            }
            if late {
                let missing = store.missing_chunks(w)?;
                if ids.len() + missing.len() > MAX_WANT_IDS {
                    break;
                }
                ids.extend(missing);
            }
            self.announced.insert(w.blob);
            blobs.push(crate::sync::session::blind_blob(&self.hash, &w.blob));
        }
        if first || !blobs.is_empty() {
            self.control.push_back(Message::Wanted { blobs, ids });
        }
        Ok(())
    }
}
