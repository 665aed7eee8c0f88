//! Events at the point of knowledge: ingest, sending and contact handling
//! raise a [`NodeEvent`] where they learn something, and the node releases
//! it only once the transaction that learned it has committed. The runtime
//! and the apps read these instead of comparing what the store held before
//! and after.

pub use crate::conversation::ConversationId;
use crate::conversation::MessageId;
use std::cell::RefCell;

/// How a message already shown changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageChange {
    /// Its text was edited.
    Edited,
    /// A reaction was added, changed or taken back.
    Reacted,
    /// It was deleted (for everyone).
    Deleted,
}

/// Something the node learned, in the order it learned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// A message appeared in a conversation (`own` when this node wrote it).
    MessageAdded {
        /// Its conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// Written here rather than received.
        own: bool,
    },
    /// A message already shown was edited, reacted to or deleted.
    MessageChanged {
        /// Its conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// What changed.
        change: MessageChange,
    },
    /// A delivery proof arrived for one of this node's direct messages.
    Delivered {
        /// Its conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
    },
    /// One more neighbour acknowledged holding one of this node's direct
    /// messages that is not delivered yet ("carried by N" grew).
    Carried {
        /// Its conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
    },
    /// Someone else read this conversation up to a time: this node's
    /// messages sent in `(after, up_to]` now show as read.
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// The reader's previous marker (0 when none).
        after: u64,
        /// The reader's new marker (a message time, milliseconds).
        up_to: u64,
    },
    /// A conversation's name, members, read markers or unread count changed
    /// (message, delivery and read events imply this for their conversation).
    ConversationChanged {
        /// The conversation.
        conversation: ConversationId,
    },
    /// A shared document changed (here or from the mesh).
    DocChanged {
        /// The document.
        doc: crate::shared_docs::DocId,
    },
    /// A change to a shared document was refused (its author may not write,
    /// or it breaks a limit); counted on the document too.
    DocRefused {
        /// The document.
        doc: crate::shared_docs::DocId,
        /// Why.
        reason: String,
    },
    /// A card offered other keys for a pinned contact; the pinned keys were kept.
    KeyChanged {
        /// The contact's alias.
        alias: String,
    },
    /// Held envelopes crossed [`PRESSURE_PERCENT`] of the storage cap, or an
    /// envelope was refused because the store is full.
    StoragePressure {
        /// Bytes of envelopes held.
        used_bytes: u64,
        /// The cap.
        cap_bytes: u64,
    },
}

/// Share of the storage cap above which the node says it is under pressure.
pub const PRESSURE_PERCENT: u64 = 90;

/// Events raised inside transactions not yet committed, and events ready
/// for whoever drains them.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    /// Kept only while someone reads them: the simulator's thousands of
    /// nodes and one-shot CLI commands never do.
    on: std::cell::Cell<bool>,
    staged: RefCell<Vec<NodeEvent>>,
    ready: RefCell<Vec<NodeEvent>>,
    /// Whether the last storage reading was above the pressure line, so
    /// pressure is announced once per crossing rather than per envelope.
    pressured: RefCell<bool>,
}

/// How many ready events are kept when nobody drains them (a CLI command,
/// the simulator): the oldest are dropped first.
const MAX_READY: usize = 10_000;

impl EventQueue {
    /// Starts (or stops) keeping events.
    pub(crate) fn keep(&self, on: bool) {
        self.on.set(on);
        if !on {
            self.staged.borrow_mut().clear();
            self.ready.borrow_mut().clear();
        }
    }

    /// Raises an event inside the running transaction.
    pub(crate) fn raise(&self, e: NodeEvent) {
        if self.on.get() {
            self.staged.borrow_mut().push(e);
        }
    }

    /// Marks where a transaction starts.
    pub(crate) fn mark(&self) -> usize {
        self.staged.borrow().len()
    }

    /// The transaction that started at `mark` committed: its events are ready.
    pub(crate) fn commit(&self, mark: usize) {
        let mut staged = self.staged.borrow_mut();
        let mut ready = self.ready.borrow_mut();
        let from = mark.min(staged.len());
        // One transaction says "conversation changed" once per conversation.
        let mut changed = std::collections::HashSet::new();
        ready.extend(staged.drain(from..).filter(|e| match e {
            NodeEvent::ConversationChanged { conversation } => changed.insert(*conversation),
            _ => true,
        }));
        let over = ready.len().saturating_sub(MAX_READY);
        ready.drain(..over);
    }

    /// The transaction that started at `mark` rolled back: forget its events.
    pub(crate) fn rollback(&self, mark: usize) {
        self.staged.borrow_mut().truncate(mark);
    }

    /// Raises an event outside any transaction (the fact is already stored).
    pub(crate) fn raise_now(&self, e: NodeEvent) {
        let mark = self.mark();
        self.raise(e);
        self.commit(mark);
    }

    /// Whether committed events wait to be taken.
    pub(crate) fn any_ready(&self) -> bool {
        !self.ready.borrow().is_empty()
    }

    /// Takes every ready event, oldest first.
    pub(crate) fn take(&self) -> Vec<NodeEvent> {
        std::mem::take(&mut *self.ready.borrow_mut())
    }

    /// Records a storage reading; true when it just crossed the pressure line
    /// (or `refused` says the store turned an envelope away).
    pub(crate) fn pressure(&self, used: u64, cap: u64, refused: bool) -> bool {
        let above = cap > 0 && used.saturating_mul(100) >= cap.saturating_mul(PRESSURE_PERCENT);
        let was = self.pressured.replace(above);
        refused || (above && !was)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(n: u8) -> NodeEvent {
        NodeEvent::ConversationChanged {
            conversation: ConversationId([n; 16]),
        }
    }

    #[test]
    fn only_committed_events_are_released_in_order() {
        let q = EventQueue::default();
        q.raise_now(conv(9));
        assert!(q.take().is_empty(), "nobody listens: nothing kept");
        q.keep(true);
        let outer = q.mark();
        q.raise(conv(1));
        let inner = q.mark();
        q.raise(conv(2));
        q.rollback(inner);
        q.raise(conv(3));
        assert!(q.take().is_empty(), "nothing before commit");
        q.commit(outer);
        assert_eq!(q.take(), vec![conv(1), conv(3)]);
        assert!(q.take().is_empty());
    }

    #[test]
    fn a_transaction_says_a_conversation_changed_once() {
        let q = EventQueue::default();
        q.keep(true);
        let m = q.mark();
        q.raise(conv(1));
        q.raise(conv(2));
        q.raise(conv(1));
        q.commit(m);
        q.raise_now(conv(1));
        assert_eq!(q.take(), vec![conv(1), conv(2), conv(1)]);
    }

    #[test]
    fn undrained_events_are_bounded() {
        let q = EventQueue::default();
        q.keep(true);
        for i in 0..(MAX_READY + 5) {
            q.raise_now(conv((i % 250) as u8));
        }
        let got = q.take();
        assert_eq!(got.len(), MAX_READY);
        assert_eq!(got[0], conv(5));
    }

    #[test]
    fn pressure_is_announced_once_per_crossing() {
        let q = EventQueue::default();
        assert!(!q.pressure(10, 100, false));
        assert!(q.pressure(95, 100, false));
        assert!(!q.pressure(96, 100, false), "still above: no repeat");
        assert!(q.pressure(96, 100, true), "a refusal always counts");
        assert!(!q.pressure(50, 100, false));
        assert!(q.pressure(90, 100, false));
        assert!(!q.pressure(0, 0, false), "no cap, no pressure");
    }
}
