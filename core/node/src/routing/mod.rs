//! Pollen's routing policy between phones: which envelopes a node hands a
//! neighbour, and how many copies go with each (binary spray and wait).
//!
//! A message starts with a budget of copies. Handing it to a carrier gives
//! away half of the budget held, and a node down to one copy waits until it
//! meets a recipient. Recipients and members of the message's group or
//! channel always get it; a member reads it and carries it on for the other
//! members like a carrier. Channel posts flood (their budget never runs
//! out): half the crowd follows a channel, so nearly every copy handed over
//! is also a delivery. Delivery proofs travel back along the message's own
//! carriers, so they drop what was delivered ([`offers_proof`]). Why these
//! numbers: `docs/ROUTING.md`, measured with `pollen sim`.
//!
//! [`encounter`] refines the carrier rule with what neighbours tell about
//! whom they meet, when the user leaves encounter routing on.

pub mod encounter;

use pollen_proto::sync::store::PeerRole;

/// Copies a direct or group message starts with.
pub const COPIES: u32 = 16;

/// Copies each chunk of a node's own attachment starts with, sprayed by the
/// same rule as an envelope's. Fewer than a text's: a chunk costs 64 KiB
/// of airtime and storage per copy, and the recipient names the blobs it
/// wants, so any holder sends it those whatever its budget. Also the most
/// a receiver keeps, whatever a peer claims. (Schema V17 writes this figure
/// for own chunks from before budgets.)
pub const CHUNK_COPIES: u32 = 8;

/// The budget of a message this node writes; `channel` for a channel post.
pub fn initial_copies(channel: bool) -> u32 {
    if channel { u32::MAX } else { COPIES }
}

/// Whether an envelope of which this node holds `copies` copies is handed
/// to a peer that is `role` for it.
/// A budget of 0 means the node moved its last copy on ([`encounter`]) and
/// keeps the envelope for its recipient only.
pub fn offers(copies: u32, role: PeerRole) -> bool {
    match role {
        PeerRole::Recipient | PeerRole::Member => true,
        PeerRole::Carrier => copies > 1,
    }
}

/// Whether a node hands on a delivery proof it holds: only when the proof
/// `matched` something here (it purged a copy this node carried, delivered
/// this node's own message, or this node is the recipient). Everyone else
/// keeps a proof it is given, so that the envelope is refused if it comes
/// later, but passes it on to no one. Proofs used to go to every phone: with
/// every phone holding every recent proof, sets differed by hundreds of
/// proofs between neighbours who had met nobody in common, and proofs and
/// their reconciliation were three quarters of all link bytes in the social
/// city (`docs/ROUTING.md`, *Delivery proofs go back along the carriers*).
/// Carriers, the sender and the recipient are the nodes a proof is for, and
/// they pass it among themselves and to anyone they meet.
pub fn offers_proof(matched: bool) -> bool {
    matched
}

/// Handing one copy to a peer that is `role` for it, from `held` copies:
/// `(kept, given)`. A direct recipient is the end of the line and takes
/// nothing from the budget; members and carriers get half of it.
pub fn split(held: u32, role: PeerRole) -> (u32, u32) {
    let held = held.max(1);
    if role == PeerRole::Recipient {
        return (held, 1);
    }
    let given = held / 2;
    (held - given, given.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_carrier_with_one_copy_waits_for_the_recipient() {
        assert!(!offers(1, PeerRole::Carrier));
        assert!(offers(1, PeerRole::Recipient));
        assert!(offers(1, PeerRole::Member));
        assert!(offers(2, PeerRole::Carrier));
        assert_eq!(split(16, PeerRole::Carrier), (8, 8));
        assert_eq!(split(3, PeerRole::Member), (2, 1));
        assert_eq!(split(16, PeerRole::Recipient), (16, 1));
    }

    #[test]
    fn channel_posts_never_run_out() {
        let mut held = initial_copies(true);
        for _ in 0..24 {
            assert!(offers(held, PeerRole::Carrier));
            held = split(held, PeerRole::Carrier).0;
        }
        assert_eq!(initial_copies(false), COPIES);
    }

    proptest! {
        /// Spraying never creates copies: what is kept and given adds up to
        /// what was held (a recipient's copy is the delivery, not a budget).
        #[test]
        fn a_handover_conserves_the_budget(held in 2u32.., member in any::<bool>()) {
            let role = if member { PeerRole::Member } else { PeerRole::Carrier };
            let (kept, given) = split(held, role);
            prop_assert_eq!(kept as u64 + given as u64, held as u64);
            prop_assert!(kept >= 1 && given >= 1);
        }
    }
}
