//! Screen privacy (`pollen_app::privacy`): the user's switch, kept by the
//! core; the apps set `FLAG_SECURE` or cover the window by it. Delivery
//! receipts (`pollen_node::receipts`): held back and batched by default.

use crate::PollenNode;
use crate::error::PollenError;
use pollen_app::privacy;
use pollen_node::receipts::Receipts;
use pollen_runtime::host::Core;

/// How this phone sends delivery receipts for the messages it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryReceipts {
    /// Held back 0–10 minutes, then sent with the others of a 10-minute
    /// batch (the default): whoever handed a message over does not learn at
    /// once that it was for this phone.
    Batched,
    /// Sent as soon as a message opens: the sender sees "delivered" at once.
    Immediate,
    /// Never sent: the sender never sees "delivered", and carriers keep the
    /// message until it expires.
    Off,
}

impl From<Receipts> for DeliveryReceipts {
    fn from(r: Receipts) -> Self {
        match r {
            Receipts::Batched => DeliveryReceipts::Batched,
            Receipts::Immediate => DeliveryReceipts::Immediate,
            Receipts::Off => DeliveryReceipts::Off,
        }
    }
}

impl From<DeliveryReceipts> for Receipts {
    fn from(r: DeliveryReceipts) -> Self {
        match r {
            DeliveryReceipts::Batched => Receipts::Batched,
            DeliveryReceipts::Immediate => Receipts::Immediate,
            DeliveryReceipts::Off => Receipts::Off,
        }
    }
}

#[uniffi::export]
impl PollenNode {
    /// Sets how delivery receipts are sent, kept across restarts; applies to
    /// messages that open from now on.
    pub fn set_delivery_receipts(&self, mode: DeliveryReceipts) -> Result<(), PollenError> {
        self.on_host(move |core: &mut Core| Ok(core.node.borrow().set_receipts(mode.into())?))
    }

    /// How delivery receipts are sent.
    pub fn delivery_receipts(&self) -> Result<DeliveryReceipts, PollenError> {
        self.read(|n| Ok(n.receipts()?.into()))
    }

    /// Turns read receipts on (the default) or off, kept across restarts.
    /// Off, opening a chat clears its unread count here and tells nobody.
    pub fn set_read_receipts(&self, on: bool) -> Result<(), PollenError> {
        self.on_host(move |core: &mut Core| Ok(core.node.borrow().set_read_receipts(on)?))
    }

    /// Whether reading a chat tells the others.
    pub fn read_receipts(&self) -> Result<bool, PollenError> {
        self.read(|n| Ok(n.read_receipts()?))
    }

    /// Keeps the screens out of screenshots and the app switcher (`true`,
    /// the default) or lets the system show them; kept across restarts.
    pub fn set_screen_private(&self, on: bool) -> Result<(), PollenError> {
        self.on_host(move |core: &mut Core| {
            Ok(privacy::set_screen_private(&core.node.borrow(), on)?)
        })
    }

    /// Whether the screens are kept private.
    pub fn screen_private(&self) -> Result<bool, PollenError> {
        self.read(|n| Ok(privacy::screen_private(n)?))
    }
}
