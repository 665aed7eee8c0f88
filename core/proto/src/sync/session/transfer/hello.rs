//! The peer's Hello and what completes it: its `Wanted` (version 6) and,
//! from version 8, its `Tags`, which it sends for the days this side's
//! Hello names.

use super::{FOR_PEER, HELD_DAYS_VERSION, PEER_GROUPS, Transfer, WANTED_VERSION};
use crate::envelope::RoutingTag;
use crate::sync::message::{Blinded, HeldDays, MAX_INTERESTS, Message};
use crate::sync::session::{Offer, SessionError, SessionStats};
use crate::sync::store::{ItemKind, SyncStore};
use std::cmp::Reverse;

/// A peer's Hello, held until the messages that complete it arrive.
pub(super) struct PendingHello {
    window: u32,
    port: u16,
    /// Its blinded direct and shared tags: in the Hello before version 8,
    /// in its `Tags` message from version 8.
    tags: Option<(Vec<Blinded>, Vec<Blinded>)>,
    /// Whether its first `Wanted` arrived.
    wanted: bool,
}

impl Transfer {
    /// The tag days of the envelopes this side may send (version 8): a
    /// relay has loaded nothing yet and may hold any day.
    pub(super) fn held_days(&self) -> HeldDays {
        if self.offer == Offer::Interests {
            return HeldDays::Every;
        }
        HeldDays::of(self.local.values().filter_map(|i| match i.kind {
            ItemKind::Envelope { .. } => Some(RoutingTag::day_of(i.expires_at)),
            _ => None,
        }))
    }

    /// This side's tags, blinded for this session: every one, or (version
    /// 8) those of the days the peer holds envelopes of.
    pub(super) fn blinded_interests(&self, days: Option<HeldDays>) -> (Vec<Blinded>, Vec<Blinded>) {
        let (hash, short) = (self.hash, self.short_tags());
        let blind = |tags: &[(u64, RoutingTag)]| {
            tags.iter()
                .filter(|(day, _)| days.is_none_or(|d| d.holds(*day)))
                .take(MAX_INTERESTS)
                .map(|(_, t)| super::super::blind(&hash, &t.0, short))
                .collect::<Vec<_>>()
        };
        (blind(&self.interests.direct), blind(&self.interests.shared))
    }

    /// The peer's Hello: complete at once before version 6; otherwise held
    /// for its `Wanted` and (version 8) its `Tags`, which this side asks
    /// for by answering with its own tags for the days the peer holds.
    pub(super) fn on_peer_hello(
        &mut self,
        (window, port): (u32, u16),
        (direct, shared): (Vec<Blinded>, Vec<Blinded>),
        days: Option<HeldDays>,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        match (days, self.version >= HELD_DAYS_VERSION) {
            (Some(_), false) => {
                return Err(SessionError::Protocol(
                    "held days in a session before version 8",
                ));
            }
            (None, true) => {
                return Err(SessionError::Protocol(
                    "hello without held days in a version 8 session",
                ));
            }
            _ => {}
        }
        if self.version < WANTED_VERSION {
            return self.on_hello(window, port, (direct, shared), store, stats);
        }
        if self.peer_hello || self.hello_pending.is_some() {
            return Err(SessionError::Protocol("second hello"));
        }
        if let Some(days) = days {
            let (direct, shared) = self.blinded_interests(Some(days));
            self.control.push_back(Message::Tags { direct, shared });
            // The peer has this side's tags before its first Recon.
            if self.initiator && self.reconciles_all() {
                self.initiate(store, stats)?;
            }
        }
        self.hello_pending = Some(PendingHello {
            window,
            port,
            tags: days.is_none().then_some((direct, shared)),
            wanted: false,
        });
        Ok(())
    }

    /// The peer's `Tags` (version 8): once, to complete its Hello.
    pub(super) fn on_tags(
        &mut self,
        tags: (Vec<Blinded>, Vec<Blinded>),
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        match &mut self.hello_pending {
            Some(p) if p.tags.is_none() => p.tags = Some(tags),
            _ => return Err(SessionError::Protocol("unexpected tags")),
        }
        self.complete_hello(store, stats)
    }

    /// The peer's first `Wanted` arrived: its Hello may be complete.
    pub(super) fn hello_wanted(
        &mut self,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        if let Some(p) = &mut self.hello_pending {
            p.wanted = true;
        }
        self.complete_hello(store, stats)
    }

    /// Why a message cannot come yet, while the peer's Hello waits for
    /// what completes it.
    pub(super) fn incomplete_hello(&self, msg: &Message) -> Option<&'static str> {
        let p = self.hello_pending.as_ref()?;
        match msg {
            Message::Wanted { .. } if !p.wanted => None,
            Message::Tags { .. } if p.tags.is_none() => None,
            _ if !p.wanted => Some("hello without wanted blobs"),
            _ => Some("hello without tags"),
        }
    }

    fn complete_hello(
        &mut self,
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        if !self
            .hello_pending
            .as_ref()
            .is_some_and(|p| p.wanted && p.tags.is_some())
        {
            return Ok(());
        }
        let Some(PendingHello {
            window,
            port,
            tags: Some(tags),
            ..
        }) = self.hello_pending.take()
        else {
            return Ok(());
        };
        self.on_hello(window, port, tags, store, stats)
    }

    /// The peer's whole Hello; a side offering by interests learns only
    /// now what to reconcile.
    fn on_hello(
        &mut self,
        window: u32,
        port: u16,
        (direct, shared): (Vec<Blinded>, Vec<Blinded>),
        store: &mut dyn SyncStore,
        stats: &mut SessionStats,
    ) -> Result<(), SessionError> {
        if self.peer_hello {
            return Err(SessionError::Protocol("second hello"));
        }
        self.peer_hello = true;
        self.peer_port = (port != 0).then_some(port);
        self.peer_window = window as u64;
        self.peer_direct = direct.into_iter().collect();
        self.peer_shared = shared.into_iter().collect();
        self.peer_changed();
        if self.offer == Offer::Interests {
            let mut items = store.items_matching(&mut |tag| {
                matches!(self.class_of_tag(tag), FOR_PEER | PEER_GROUPS)
            })?;
            if !self.peer_wanted.is_empty() {
                let (hash, blobs) = (self.hash, &self.peer_wanted);
                let mut named =
                    |blob: &[u8; 32]| blobs.contains(&super::super::blind_blob(&hash, blob));
                items.extend(store.chunks_matching(&mut named)?);
            }
            items.sort_unstable_by_key(|i| Reverse(i.expires_at));
            items.truncate(self.limits.recon.max_items);
            self.local = items.into_iter().map(|i| (i.id, i)).collect();
            if self.initiator {
                self.initiate(store, stats)?;
            }
        } else if self.initiator && self.offers_only() {
            self.initiate(store, stats)?;
        }
        Ok(())
    }
}
