//! Routing policies: the one decision that differs between runs — which of
//! its held items a node offers a peer, given what the peer is for each item.
//!
//! Everything else (sessions, reconciliation, storage, crypto) is the real
//! core. A policy sees only what a real node could know: the item, whether
//! the peer's Hello shows it is the recipient or a member, whether the peer
//! is uplinked infrastructure, and the node's own bookkeeping (copies held,
//! hops travelled).

use crate::scenario::Role;
use pollen_node::routing;
use pollen_proto::sync::store::{PeerRole, Toward};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Hop limit of the `flood` policy, as in the BLE-mesh chat apps.
pub const FLOOD_HOPS: u8 = 7;
/// Copies of the binary spray-and-wait baseline unless `--copies` says otherwise.
pub const DEFAULT_COPIES: u32 = 8;
/// Copies the `pollen` policy sprays before it waits (private messages):
/// what phones run (`pollen_node::routing`).
pub const POLLEN_COPIES: u32 = routing::COPIES;

/// A routing policy (`--policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Only the source hands a message over, and only to its recipient.
    Direct,
    /// Everything to everyone.
    Epidemic,
    /// Binary spray-and-wait with `copies` copies.
    SprayAndWait {
        /// Copies the source starts with.
        copies: u32,
    },
    /// Flooding limited to `hops` hops from the source.
    Flood {
        /// Hops a copy may travel.
        hops: u8,
    },
    /// Pollen's own: binary spray of a small copy budget, anything to uplinked
    /// gateways, delivery proofs as anti-packets.
    Pollen {
        /// Copies the source starts with.
        copies: u32,
    },
    /// `pollen` plus encounter history: private copies go only to carriers
    /// at least as likely to meet the recipient, and a last copy moves on
    /// to a clearly better one (`pollen_node::routing::encounter`).
    Encounter {
        /// Copies the source starts with.
        copies: u32,
    },
}

/// Every policy with its default parameters, in table order.
pub const ALL: [Policy; 6] = [
    Policy::Direct,
    Policy::Epidemic,
    Policy::SprayAndWait {
        copies: DEFAULT_COPIES,
    },
    Policy::Flood { hops: FLOOD_HOPS },
    Policy::Pollen {
        copies: POLLEN_COPIES,
    },
    Policy::Encounter {
        copies: POLLEN_COPIES,
    },
];

/// An unknown policy name.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown policy {0:?} (direct, epidemic, spray-and-wait, flood, pollen, encounter)")]
pub struct PolicyError(pub String);

impl FromStr for Policy {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Policy, PolicyError> {
        Ok(match s {
            "direct" => Policy::Direct,
            "epidemic" => Policy::Epidemic,
            "spray-and-wait" | "spray" => Policy::SprayAndWait {
                copies: DEFAULT_COPIES,
            },
            "flood" => Policy::Flood { hops: FLOOD_HOPS },
            "pollen" | "blind" => Policy::Pollen {
                copies: POLLEN_COPIES,
            },
            "encounter" => Policy::Encounter {
                copies: POLLEN_COPIES,
            },
            other => return Err(PolicyError(other.to_owned())),
        })
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a node knows about one item it holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Held {
    /// This node wrote it.
    pub own: bool,
    /// Copies this node may still hand to carriers (spray policies).
    pub copies: u32,
    /// Hops the copy travelled to get here (0 at the source).
    pub hops: u8,
    /// It handed its last copy on (`encounter`): it waits for a recipient.
    pub retired: bool,
    /// Predictability of meeting the recipient: this node's, and the peer's
    /// if its Hello told one (`encounter` only; 0 and `None` elsewhere).
    pub predict: (f32, Option<f32>),
    /// It is a delivery proof, not an envelope.
    pub proof: bool,
    /// A proof that matched something this node held (its own message, a
    /// copy it carried, or mail for it): the phones' rule passes on only those.
    pub matched: bool,
}

impl Policy {
    /// The policy's command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Direct => "direct",
            Policy::Epidemic => "epidemic",
            Policy::SprayAndWait { .. } => "spray-and-wait",
            Policy::Flood { .. } => "flood",
            Policy::Pollen { .. } => "pollen",
            Policy::Encounter { .. } => "encounter",
        }
    }

    /// Whether copies carry a budget (sent with them in the session).
    pub fn keeps_budgets(&self) -> bool {
        matches!(
            self,
            Policy::SprayAndWait { .. } | Policy::Pollen { .. } | Policy::Encounter { .. }
        )
    }

    /// Whether a received copy budget is the one the node itself admitted
    /// (`pollen_node::admission`: a neighbour's claim clamped, a channel
    /// post a follower opened back to flooding), as on phones. The
    /// baselines take the claim as it came.
    pub fn admits_as_phones(&self) -> bool {
        matches!(self, Policy::Pollen { .. } | Policy::Encounter { .. })
    }

    /// Whether the policy keeps encounter history.
    pub fn uses_encounters(&self) -> bool {
        matches!(self, Policy::Encounter { .. })
    }

    /// The same policy with `copies` copies, where it has a copy budget.
    pub fn with_copies(self, copies: u32) -> Policy {
        match self {
            Policy::SprayAndWait { .. } => Policy::SprayAndWait { copies },
            Policy::Pollen { .. } => Policy::Pollen { copies },
            Policy::Encounter { .. } => Policy::Encounter { copies },
            other => other,
        }
    }

    /// Copies the source of a new message starts with; `public` is a post
    /// to an open channel, which everyone may read.
    pub fn initial_copies(&self, public: bool) -> u32 {
        match *self {
            Policy::SprayAndWait { copies } => copies.max(1),
            // A public post is wanted by much of the crowd: every copy handed
            // over is likely a delivery, so it floods (halving never ends).
            Policy::Pollen { .. } | Policy::Encounter { .. } if public => {
                routing::initial_copies(true)
            }
            Policy::Pollen { copies } | Policy::Encounter { copies } => copies.max(1),
            _ => 1,
        }
    }

    /// Whether a node in role `me` offers `item` to a peer that is `role`
    /// for it and whose node is `peer`.
    pub fn offers(&self, me: Role, item: Held, role: PeerRole, peer: Role) -> bool {
        // The relay and the gateways exchange everything over the internet
        // under every policy; towards phones they follow the policy.
        if me != Role::Person && peer != Role::Person {
            return true;
        }
        if item.proof {
            // Classic routers have no anti-packets; epidemic spreads them to
            // everyone, Pollen back along the carriers so they drop
            // delivered copies.
            return match self {
                Policy::Epidemic => true,
                Policy::Pollen { .. } | Policy::Encounter { .. } => {
                    routing::offers_proof(item.matched)
                }
                _ => false,
            };
        }
        match role {
            PeerRole::Recipient | PeerRole::Member => match self {
                Policy::Direct => item.own,
                _ => true,
            },
            PeerRole::Carrier => match *self {
                Policy::Direct => false,
                Policy::Epidemic => true,
                Policy::SprayAndWait { .. } => item.copies > 1,
                Policy::Flood { hops } => item.hops < hops,
                Policy::Pollen { .. } => peer != Role::Person || routing::offers(item.copies, role),
                Policy::Encounter { .. } => peer != Role::Person || encounter_offers(item),
            },
        }
    }

    /// Copies a carrier gets when a node holding `held` copies hands it one:
    /// binary spray gives away half. Returns (kept, given).
    pub fn split(&self, held: u32, to: Toward, peer: Role) -> (u32, u32) {
        // Infrastructure hands everything on anyway; between phones the
        // spray policies split as phones do (`pollen_node::routing`).
        if peer != Role::Person {
            return (held, 1);
        }
        match self {
            Policy::SprayAndWait { .. } | Policy::Pollen { .. } => routing::split(held, to.role),
            // A last copy moves: the giver keeps the bytes but no budget.
            Policy::Encounter { .. } => routing::encounter::split(held, to),
            _ => (held, 1),
        }
    }
}

/// The `encounter` policy towards a phone that is only a carrier: the
/// node's own rule (`pollen_node::routing::encounter`); a copy whose last
/// budget moved on waits for a recipient.
fn encounter_offers(item: Held) -> bool {
    let (mine, theirs) = item.predict;
    let copies = if item.retired { 0 } else { item.copies };
    let to = Toward {
        role: PeerRole::Carrier,
        meets: theirs,
    };
    routing::encounter::offers(copies, to, mine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(copies: u32, hops: u8) -> Held {
        Held {
            own: hops == 0,
            copies,
            hops,
            proof: false,
            matched: false,
            retired: false,
            predict: (0.0, None),
        }
    }

    #[test]
    fn names_round_trip() {
        for p in ALL {
            assert_eq!(p.name().parse::<Policy>(), Ok(p));
        }
        assert!("best".parse::<Policy>().is_err());
    }

    #[test]
    fn direct_only_hands_own_messages_to_their_recipients() {
        let p = Policy::Direct;
        assert!(p.offers(Role::Person, held(1, 0), PeerRole::Recipient, Role::Person));
        assert!(!p.offers(Role::Person, held(1, 1), PeerRole::Recipient, Role::Person));
        assert!(!p.offers(Role::Person, held(1, 0), PeerRole::Carrier, Role::Person));
    }

    #[test]
    fn spray_and_wait_waits_with_one_copy() {
        let p = Policy::SprayAndWait { copies: 8 };
        assert!(p.offers(Role::Person, held(8, 0), PeerRole::Carrier, Role::Person));
        assert!(!p.offers(Role::Person, held(1, 2), PeerRole::Carrier, Role::Person));
        assert!(p.offers(Role::Person, held(1, 2), PeerRole::Recipient, Role::Person));
        let to = Toward::blind;
        assert_eq!(p.split(8, to(PeerRole::Carrier), Role::Person), (4, 4));
        assert_eq!(p.split(3, to(PeerRole::Carrier), Role::Person), (2, 1));
        assert_eq!(p.split(8, to(PeerRole::Recipient), Role::Person), (8, 1));
        assert_eq!(p.split(8, to(PeerRole::Member), Role::Person), (4, 4));
    }

    #[test]
    fn flood_stops_at_the_hop_limit() {
        let p = Policy::Flood { hops: 7 };
        assert!(p.offers(Role::Person, held(1, 6), PeerRole::Carrier, Role::Person));
        assert!(!p.offers(Role::Person, held(1, 7), PeerRole::Carrier, Role::Person));
    }

    #[test]
    fn encounter_sprays_blind_and_moves_last_copies_up_the_gradient() {
        let p = Policy::Encounter { copies: 16 };
        let with = |copies, mine, theirs| Held {
            predict: (mine, Some(theirs)),
            ..held(copies, 1)
        };
        let carrier = |h| p.offers(Role::Person, h, PeerRole::Carrier, Role::Person);
        assert!(carrier(with(8, 0.0, 0.0)));
        assert!(carrier(with(8, 0.2, 0.3)));
        assert!(carrier(with(8, 0.3, 0.2)));
        assert!(!carrier(with(1, 0.3, 0.35)));
        assert!(carrier(with(1, 0.3, 0.45)));
        let retired = Held {
            retired: true,
            ..with(1, 0.0, 1.0)
        };
        assert!(!carrier(retired));
        assert!(p.offers(Role::Person, retired, PeerRole::Recipient, Role::Person));
        let told = |role| Toward {
            role,
            meets: Some(0.5),
        };
        assert_eq!(p.split(1, told(PeerRole::Carrier), Role::Person), (0, 1));
        assert_eq!(p.split(8, told(PeerRole::Carrier), Role::Person), (4, 4));
        assert_eq!(p.split(1, told(PeerRole::Recipient), Role::Person), (1, 1));
        // A phone that told nothing gets the blind spray's last-copy rule.
        assert!(!carrier(Held {
            predict: (0.0, None),
            ..held(1, 1)
        }));
    }

    #[test]
    fn pollen_hands_everything_to_gateways_and_spreads_proofs_its_carriers_hold() {
        let p = Policy::Pollen { copies: 8 };
        assert!(p.offers(Role::Person, held(1, 3), PeerRole::Carrier, Role::Gateway));
        assert!(!p.offers(Role::Person, held(1, 3), PeerRole::Carrier, Role::Person));
        let proof = Held {
            proof: true,
            matched: true,
            ..held(1, 1)
        };
        assert!(p.offers(Role::Person, proof, PeerRole::Carrier, Role::Person));
        let bystanders = Held {
            matched: false,
            ..proof
        };
        assert!(!p.offers(Role::Person, bystanders, PeerRole::Carrier, Role::Person));
        assert!(Policy::Epidemic.offers(Role::Person, bystanders, PeerRole::Carrier, Role::Person));
        assert!(!Policy::Flood { hops: 7 }.offers(
            Role::Person,
            proof,
            PeerRole::Carrier,
            Role::Person
        ));
    }
}
