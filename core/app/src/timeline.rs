//! One chat's timeline: messages oldest first with edits, reactions and
//! deletions folded in, a separator before each new local day, and where
//! each of this node's messages has got to.

use crate::AppError;
use crate::attachment::AttachmentView;
use pollen_node::Node;
use pollen_node::attachments::Progress;
use pollen_node::conversation::MessageId;
use pollen_node::node::ConversationId;
use pollen_node::store::MessageRow;
use pollen_proto::chunk::BlobId;
use pollen_proto::envelope::MAX_TTL_SECS;
use pollen_proto::identity::ContactKey;
use std::collections::HashMap;

/// Where one message has got to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Someone else wrote it.
    Received,
    /// Written here; no neighbour has acknowledged holding it yet.
    Queued,
    /// Written here, not delivered yet, and held by this many neighbours
    /// that took it from this phone (carriers, or a relay).
    Carried {
        /// Neighbours that acknowledged holding it.
        by: u32,
    },
    /// Sent to a group or channel: there is no per-recipient receipt.
    Sent,
    /// The recipient's delivery proof came back.
    Delivered,
    /// The recipient read up to it.
    Read,
    /// It will not arrive.
    Failed {
        /// Why, for the user.
        reason: String,
    },
}

/// One emoji on a message, with how many chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
    /// How many people reacted with it.
    pub count: u32,
    /// This node is one of them.
    pub mine: bool,
}

/// One message as the timeline draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineMessage {
    /// Message id, lower-case hex (what edit, react, reply and delete take).
    pub id: String,
    /// Author's name (contact alias when pinned).
    pub author: String,
    /// Written by this node.
    pub own: bool,
    /// Current text; empty when deleted.
    pub text: String,
    /// Unix milliseconds it was written.
    pub sent_at_ms: u64,
    /// It was edited after it was sent.
    pub edited: bool,
    /// It was deleted for everyone.
    pub deleted: bool,
    /// The message it answers, hex.
    pub reply_to: Option<String>,
    /// Reactions, grouped by emoji, most chosen first.
    pub reactions: Vec<Reaction>,
    /// Where it has got to.
    pub delivery: Delivery,
    /// Links it crossed to get here, at least (received messages, when
    /// known; a carrier may hide a hop, checklist P4).
    pub hops: Option<u32>,
    /// The photo, voice note or file it carries (none once deleted).
    pub attachment: Option<Box<AttachmentView>>,
}

impl Delivery {
    /// What the chat shows: "queued", "delivered", "failed: why"…
    pub fn label(&self) -> String {
        match self {
            Delivery::Received => "received".to_owned(),
            Delivery::Queued => "queued".to_owned(),
            Delivery::Carried { by } => format!("carried by {by}"),
            Delivery::Sent => "sent".to_owned(),
            Delivery::Delivered => "delivered".to_owned(),
            Delivery::Read => "read".to_owned(),
            Delivery::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

impl TimelineMessage {
    /// The text as the chat draws it: "(deleted)", or the text (for a
    /// file sent without words, what the file is: "Photo", "Voice note
    /// 0:03"), with " (edited)" after an edit.
    pub fn shown_text(&self) -> String {
        if self.deleted {
            return "(deleted)".to_owned();
        }
        let text = match &self.attachment {
            Some(a) if self.text.is_empty() => crate::attachment::headline(&a.reference),
            _ => self.text.clone(),
        };
        if self.edited {
            format!("{text} (edited)")
        } else {
            text
        }
    }

    /// The reactions on one line, most chosen first, a count after an
    /// emoji chosen more than once: "👍2 ❤️"; empty without reactions.
    pub fn reactions_line(&self) -> String {
        self.reactions
            .iter()
            .map(|r| match r.count {
                0 | 1 => r.emoji.clone(),
                n => format!("{}{n}", r.emoji),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Under the message: "me · delivered" for this node's own (where it
    /// has got to), the author's name for the others'.
    pub fn byline(&self) -> String {
        if self.own {
            format!("me · {}", self.delivery.label())
        } else {
            self.author.clone()
        }
    }
}

/// An item of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimelineItem {
    /// A new local day starts.
    Day {
        /// Days since 1970-01-01 in the viewer's time zone.
        day: i64,
        /// "Today", "Yesterday" or `YYYY-MM-DD`.
        label: String,
    },
    /// A message.
    Message(TimelineMessage),
}

/// What part of the timeline to draw, and for whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineQuery {
    /// Messages at most.
    pub limit: u32,
    /// Only messages older than this (sent_at ms, id) — the first message
    /// of the page already shown.
    pub before: Option<(u64, MessageId)>,
    /// Unix seconds now (for "Today" and for messages that expired unsent).
    pub now_secs: u64,
    /// The viewer's offset from UTC, seconds (east positive).
    pub utc_offset_secs: i32,
}

/// The newest `query.limit` messages of a chat, oldest first, folded.
pub fn timeline(
    node: &Node,
    conversation: &ConversationId,
    query: &TimelineQuery,
) -> Result<Vec<TimelineItem>, AppError> {
    if node.conversation(conversation)?.is_none() {
        return Err(AppError::UnknownConversation(conversation.to_hex()));
    }
    let me = node.public().signing;
    let mut rows = node
        .store()
        .messages(Some(conversation), &me, query.limit, query.before)?;
    // What a person wrote before they were blocked is hidden too.
    let blocked: Vec<_> = node.blocked()?.into_iter().map(|b| b.key).collect();
    rows.retain(|r| !blocked.contains(&r.author));
    let mut held = HashMap::new();
    for a in rows
        .iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| r.attachment.as_ref())
    {
        held.insert(a.blob, node.attachment_progress(a)?);
    }
    Ok(fold(rows, &me, query, &held))
}

/// Folds a page of rows (newest first, as the store gives them) into items,
/// with the chunks held of each attachment (one missing from `held` shows
/// as none held and not asked for).
pub fn fold(
    mut rows: Vec<MessageRow>,
    me: &ContactKey,
    query: &TimelineQuery,
    held: &HashMap<BlobId, Progress>,
) -> Vec<TimelineItem> {
    rows.reverse();
    let today = local_day(query.now_secs.saturating_mul(1000), query.utc_offset_secs);
    let mut items = Vec::with_capacity(rows.len() + 4);
    let mut last_day = None;
    for row in rows {
        let day = local_day(row.sent_at, query.utc_offset_secs);
        if last_day != Some(day) {
            items.push(TimelineItem::Day {
                day,
                label: day_label(day, today),
            });
            last_day = Some(day);
        }
        items.push(TimelineItem::Message(message(
            row,
            me,
            query.now_secs,
            held,
        )));
    }
    items
}

fn message(
    row: MessageRow,
    me: &ContactKey,
    now_secs: u64,
    held: &HashMap<BlobId, Progress>,
) -> TimelineMessage {
    let own = &row.author == me;
    let attachment = row.attachment.filter(|_| !row.deleted).map(|a| {
        let progress = held.get(&a.blob).copied().unwrap_or(Progress {
            have: 0,
            need: a.chunk_count(),
            asked: pollen_node::attachments::Asked::No,
        });
        Box::new(AttachmentView::new(a, progress))
    });
    let delivery = delivery(&row.status, row.carriers, row.sent_at, now_secs);
    let my_key = hex::encode(me);
    TimelineMessage {
        id: hex::encode(row.id),
        author: row.from,
        own,
        text: if row.deleted { String::new() } else { row.text },
        sent_at_ms: row.sent_at,
        edited: row.edited_at.is_some() && !row.deleted,
        deleted: row.deleted,
        reply_to: row.reply_to.map(hex::encode),
        reactions: if row.deleted {
            Vec::new()
        } else {
            reactions(&row.reactions, &my_key)
        },
        delivery,
        hops: row.hops,
        attachment,
    }
}

/// The delivery state from the store's status column and the neighbours that
/// took the message. A direct message still pending when the longest envelope
/// lifetime has passed can no longer arrive.
pub fn delivery(status: &str, carriers: u32, sent_at_ms: u64, now_secs: u64) -> Delivery {
    match status {
        "received" => Delivery::Received,
        "read" => Delivery::Read,
        "delivered" => Delivery::Delivered,
        "sent" => Delivery::Sent,
        "pending" if now_secs > (sent_at_ms / 1000).saturating_add(MAX_TTL_SECS) => {
            Delivery::Failed {
                reason: "expired before anyone carried it to the recipient".to_owned(),
            }
        }
        "pending" if carriers > 0 => Delivery::Carried { by: carriers },
        "pending" => Delivery::Queued,
        other => Delivery::Failed {
            reason: format!("unknown delivery state {other:?}"),
        },
    }
}

/// (reactor hex, emoji) pairs grouped by emoji: most chosen first, then by emoji.
fn reactions(pairs: &[(String, String)], me_hex: &str) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = Vec::new();
    for (who, emoji) in pairs {
        let mine = who.eq_ignore_ascii_case(me_hex);
        match out.iter_mut().find(|r| &r.emoji == emoji) {
            Some(r) => {
                r.count += 1;
                r.mine |= mine;
            }
            None => out.push(Reaction {
                emoji: emoji.clone(),
                count: 1,
                mine,
            }),
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.emoji.cmp(&b.emoji)));
    out
}

/// Days since 1970-01-01 of a Unix-milliseconds time at this UTC offset.
pub fn local_day(at_ms: u64, utc_offset_secs: i32) -> i64 {
    let secs = (at_ms / 1000) as i64 + i64::from(utc_offset_secs);
    secs.div_euclid(86_400)
}

/// "Today", "Yesterday" or the date.
pub fn day_label(day: i64, today: i64) -> String {
    match today - day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        _ => {
            let (y, m, d) = civil_from_days(day);
            format!("{y:04}-{m:02}-{d:02}")
        }
    }
}

/// (year, month, day) of a day number (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
