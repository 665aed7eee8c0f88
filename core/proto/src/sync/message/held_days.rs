//! The tag days a version 8 Hello names: what its sender holds.

/// Days a `Hello` can name past its first (session version 8).
pub const HELD_DAYS: u32 = 64;
/// The first-day value that stands for every day (a relay, which loads
/// nothing before the client's tags).
pub(super) const EVERY_DAY: u32 = u32::MAX;

/// The expiry days of the envelopes a side holds (session version 8):
/// the peer sends its tags for those days only, in a `Tags` message,
/// instead of tags for every day an envelope might still expire on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldDays {
    /// It may hold envelopes expiring on any day.
    Every,
    /// Day `first + i` (in days since the epoch, as routing tags count
    /// them) is held if bit `i` of `mask` is set.
    From {
        /// The first day the mask covers.
        first: u32,
        /// One bit per day from `first`.
        mask: u64,
    },
}

impl HeldDays {
    /// These tag days ([`RoutingTag::day_of`](crate::envelope::RoutingTag::day_of)),
    /// as one mask from the earliest: days [`HELD_DAYS`] or more after it
    /// are left out.
    pub fn of(days: impl IntoIterator<Item = u64>) -> HeldDays {
        let days: Vec<u64> = days.into_iter().collect();
        let Some(&first) = days.iter().min() else {
            return HeldDays::From { first: 0, mask: 0 };
        };
        let mask = days
            .iter()
            .map(|d| d - first)
            .filter(|&i| i < HELD_DAYS as u64)
            .fold(0u64, |m, i| m | 1 << i);
        HeldDays::From {
            first: first.min(EVERY_DAY as u64 - 1) as u32,
            mask,
        }
    }

    /// Whether the tags of this day number are wanted.
    pub fn holds(&self, day: u64) -> bool {
        match *self {
            HeldDays::Every => true,
            HeldDays::From { first, mask } => day
                .checked_sub(first as u64)
                .is_some_and(|i| i < HELD_DAYS as u64 && mask >> i & 1 == 1),
        }
    }
}
