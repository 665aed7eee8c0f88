//! How a session ends other than by finishing: its link breaks, or it
//! fails (a timeout, a protocol error, the peer's Close). Either way what
//! it held for the transfer goes back to the store at once, so that the
//! next session, with this peer or another, starts from the truth.

use super::{HS_CLOSE, MIN_RECORD, Message, Phase, Session, SessionError, SessionEvent};
use crate::sync::store::SyncStore;

impl Session {
    /// The link is gone: commits what was fully received, so nothing the peer
    /// sent is lost, gives back the copy budgets of what the peer did not
    /// acknowledge, and ends the session.
    pub fn link_lost(&mut self, store: &mut dyn SyncStore) {
        self.release(store, "link loss");
        if !self.is_closed() {
            self.close(SessionError::LinkLost);
        }
        self.out.clear();
    }

    /// After a call that may have failed the session: a failed session
    /// releases what a lost link would. Without this, the items it asked
    /// for stayed claimed for a minute and the copies the peer never
    /// acknowledged stayed spent, until the store's own timers.
    pub(super) fn release_if_failed(&mut self, store: &mut dyn SyncStore) {
        if self.is_closed() && !self.finished {
            self.release(store, "a failed session");
        }
    }

    /// Commits what was fully received, refunds unacknowledged copies and
    /// frees the claims. Each step drains its own list, so a second call
    /// does nothing.
    fn release(&mut self, store: &mut dyn SyncStore, when: &str) {
        if self.transfer.has_pending()
            && let Err(e) = self.commit(store)
        {
            tracing::warn!(error = %e, "could not commit received items at {when}");
        }
        if let Err(e) = self.transfer.refund_unacked(store) {
            tracing::warn!(error = %e, "could not refund copies at {when}");
        }
        if let Err(e) = self.transfer.unclaim(store) {
            tracing::warn!(error = %e, "could not free the items asked for at {when}");
        }
    }

    /// Ends the session because of `error`, telling the peer why.
    pub(super) fn fail(&mut self, error: SessionError) {
        if self.is_closed() {
            return;
        }
        tracing::warn!(origin = %self.config.origin, reason = %error, "closing link");
        let reason = error.to_string();
        match self.phase {
            Phase::Transport(_) => {
                let _ = self.send(&Message::Close(reason));
            }
            _ => {
                let mut end = reason.len().min(MIN_RECORD - 8);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                let saved = self.max_record;
                self.max_record = MIN_RECORD;
                let _ = self.send_handshake_record(HS_CLOSE, &reason.as_bytes()[..end]);
                self.max_record = saved;
            }
        }
        self.close(error);
    }

    pub(super) fn close(&mut self, error: SessionError) {
        self.phase = Phase::Closed;
        self.events.push_back(SessionEvent::Closed(error));
    }
}
