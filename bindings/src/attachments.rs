//! Attachments across the boundary: send a photo, voice note or file with a
//! message, read the attachment a message carries and how much of it is
//! here, ask for it, and save it once whole. Chunks travel in the same
//! sessions as messages, after them (`docs/PROTOCOL.md`, *Attachments*).

use crate::error::PollenError;
use crate::node::{PollenNode, hex_id, sent};
use crate::records::SentInfo;
use pollen_app::attachment::{self as app, AttachmentView};
use pollen_node::NodeError;
use pollen_node::admission::AutoFetch;
use pollen_node::conversation::MessageId;
use pollen_node::node::ConversationId;
use pollen_proto::chunk::{MAX_ATTACHMENT_BYTES, Preview};

/// What an attachment is, from its media type: how the chat shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AttachmentKind {
    /// A photo or picture: shown inline once here.
    Image,
    /// A voice note or other sound: played.
    Audio,
    /// A video: opened.
    Video,
    /// Anything else: opened or shared.
    File,
}

/// Where an attachment is, for this phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AttachmentState {
    /// Every chunk is here: show, play or open it (`attachment_file`).
    Whole,
    /// Asked for; chunks are arriving (`percent`).
    Coming,
    /// Coming on its own over Wi-Fi only; `fetch_attachment` asks over Bluetooth too.
    WifiOnly,
    /// Not asked for: `fetch_attachment` when the user taps it.
    Ask,
}

/// An attachment as a message shows it: the sender's preview, where it is
/// and how far it got, and the line to draw under it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentInfo {
    /// The blob id (hex): what `fetch_attachment` and `save_attachment` take.
    pub blob_id: String,
    /// File name as the sender gave it.
    pub name: String,
    /// Media type ("" when unknown).
    pub mime: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Length of a voice note or video, in milliseconds.
    pub duration_ms: Option<u32>,
    /// A small inline image (empty when none).
    pub thumbnail: Vec<u8>,
    /// Verified chunks held here.
    pub have: u32,
    /// Chunks the file has.
    pub need: u32,
    /// Image, audio, video or file.
    pub kind: AttachmentKind,
    /// Here, coming, or waiting for the user.
    pub state: AttachmentState,
    /// Chunks held, 0 to 100 (100 only when whole).
    pub percent: u8,
    /// The line under it: "map.jpg · 1.2 MB", "40 % of 1.2 MB", "1.2 MB · tap to download".
    pub label: String,
}

impl From<AttachmentView> for AttachmentInfo {
    fn from(v: AttachmentView) -> AttachmentInfo {
        let (percent, label) = (v.percent(), v.label());
        let r = v.reference;
        AttachmentInfo {
            blob_id: hex::encode(r.blob.0),
            name: r.preview.name,
            mime: r.preview.mime,
            size: r.preview.size,
            duration_ms: r.preview.duration_ms,
            thumbnail: r.preview.thumbnail,
            have: u32::from(v.have),
            need: u32::from(v.need),
            kind: match v.kind {
                app::AttachmentKind::Image => AttachmentKind::Image,
                app::AttachmentKind::Audio => AttachmentKind::Audio,
                app::AttachmentKind::Video => AttachmentKind::Video,
                app::AttachmentKind::File => AttachmentKind::File,
            },
            state: match v.state {
                app::AttachmentState::Whole => AttachmentState::Whole,
                app::AttachmentState::Coming => AttachmentState::Coming,
                app::AttachmentState::WifiOnly => AttachmentState::WifiOnly,
                app::AttachmentState::Ask => AttachmentState::Ask,
            },
            percent,
            label,
        }
    }
}

/// How large an attachment from a contact may be to come without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AutoFetchLimits {
    /// Over Bluetooth.
    pub bluetooth_bytes: u64,
    /// Over Wi-Fi (or a cable).
    pub wifi_bytes: u64,
}

impl From<AutoFetch> for AutoFetchLimits {
    fn from(a: AutoFetch) -> Self {
        AutoFetchLimits {
            bluetooth_bytes: a.slow_link,
            wifi_bytes: a.fast_link,
        }
    }
}

/// What the app knows of the file it sends.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FileToSend {
    /// Where the app put it (its own cache or files directory).
    pub path: String,
    /// The name to show (no path).
    pub name: String,
    /// Media type ("" when unknown).
    pub mime: String,
    /// Length of a voice note or video, in milliseconds.
    pub duration_ms: Option<u32>,
    /// A small inline image the app made (empty when none).
    pub thumbnail: Vec<u8>,
}

/// What the core takes with a file: the apps size their thumbnails and
/// refuse a pick by these rather than by numbers of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentLimits {
    /// The largest file, in bytes.
    pub max_file_bytes: u64,
    /// The largest inline thumbnail, in bytes.
    pub max_thumbnail_bytes: u32,
}

/// The core's attachment limits.
#[uniffi::export]
pub fn attachment_limits() -> AttachmentLimits {
    AttachmentLimits {
        max_file_bytes: MAX_ATTACHMENT_BYTES,
        max_thumbnail_bytes: pollen_proto::chunk::reference::MAX_THUMBNAIL_BYTES as u32,
    }
}

#[uniffi::export]
impl PollenNode {
    /// Sends the file with `text` into the chat `conversation_id`.
    pub fn send_file(
        &self,
        conversation_id: String,
        file: FileToSend,
        text: String,
    ) -> Result<SentInfo, PollenError> {
        let id: ConversationId =
            hex_id(&conversation_id).ok_or(PollenError::UnknownConversation {
                name: conversation_id.clone(),
            })?;
        let len = std::fs::metadata(&file.path)
            .map_err(|source| NodeError::Io {
                path: file.path.clone().into(),
                source,
            })?
            .len();
        if len > MAX_ATTACHMENT_BYTES {
            return Err(NodeError::Attachment(format!(
                "{} is {len} bytes, more than {MAX_ATTACHMENT_BYTES}",
                file.name
            ))
            .into());
        }
        let data = std::fs::read(&file.path).map_err(|source| NodeError::Io {
            path: file.path.clone().into(),
            source,
        })?;
        let preview = Preview {
            name: file.name,
            mime: file.mime,
            size: data.len() as u64,
            duration_ms: file.duration_ms,
            thumbnail: file.thumbnail,
        };
        self.write(move |n| Ok(sent(n.send_file_in(&id, &data, preview, &text)?.0)))
    }

    /// The attachment of a message, with how much of it is here; None when
    /// the message carries none.
    pub fn message_attachment(
        &self,
        conversation_id: String,
        message_id: String,
    ) -> Result<Option<AttachmentInfo>, PollenError> {
        let c: ConversationId =
            hex_id(&conversation_id).ok_or(PollenError::UnknownConversation {
                name: conversation_id.clone(),
            })?;
        let m = MessageId::from_hex(&message_id)
            .map_err(|_| NodeError::UnknownMessage(message_id.clone()))?;
        self.read(move |n| {
            let Some(r) = n.message_attachment(&c, &m)? else {
                return Ok(None);
            };
            let p = n.attachment_progress(&r)?;
            Ok(Some(AttachmentView::new(r, p).into()))
        })
    }

    /// Asks for an attachment (blob id or a unique prefix of 8 or more hex
    /// digits): its chunks are kept and asked for until it is whole.
    pub fn fetch_attachment(&self, blob_id: String) -> Result<AttachmentInfo, PollenError> {
        self.write(move |n| {
            let r = n.find_attachment(&blob_id)?;
            let p = n.fetch(&r)?;
            Ok(AttachmentView::new(r, p).into())
        })
    }

    /// The largest attachments from contacts fetched without asking, over
    /// Bluetooth and over Wi-Fi (bytes).
    pub fn auto_fetch_limits(&self) -> Result<AutoFetchLimits, PollenError> {
        self.read(|n| Ok(n.auto_fetch()?.into()))
    }

    /// Sets those limits (the app's setting); cut to the largest attachment,
    /// and the Bluetooth one to the Wi-Fi one. Returns what was kept.
    pub fn set_auto_fetch_limits(
        &self,
        limits: AutoFetchLimits,
    ) -> Result<AutoFetchLimits, PollenError> {
        self.write(move |n| {
            Ok(n.set_auto_fetch(AutoFetch {
                slow_link: limits.bluetooth_bytes,
                fast_link: limits.wifi_bytes,
            })?
            .into())
        })
    }

    /// Writes a whole attachment once into the app's directory `dir` (a
    /// cache) and returns its path, to show inline, play or open; later
    /// calls return the same file. Refused while chunks are missing.
    pub fn attachment_file(&self, blob_id: String, dir: String) -> Result<String, PollenError> {
        self.read(move |n| {
            let r = n.find_attachment(&blob_id)?;
            let path = pollen_app::attachment::file_in(n, &r, std::path::Path::new(&dir))?;
            Ok(path.to_string_lossy().into_owned())
        })
    }

    /// Writes a whole attachment to `path` (verified again, decrypted);
    /// returns its size. Refused while chunks are missing.
    pub fn save_attachment(&self, blob_id: String, path: String) -> Result<u64, PollenError> {
        self.read(move |n| {
            let r = n.find_attachment(&blob_id)?;
            Ok(n.save_attachment(&r, std::path::Path::new(&path))?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::FileToSend;
    use crate::node::PollenNode;

    #[test]
    fn a_file_is_sent_read_back_and_saved_and_an_oversized_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let node = PollenNode::create(
            dir.path().join("n").to_string_lossy().into_owned(),
            "Ann".into(),
        )
        .unwrap();
        let chat = node.join_channel("#square".into()).unwrap().id;
        let path = dir.path().join("note.ogg");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = FileToSend {
            path: path.to_string_lossy().into_owned(),
            name: "note.ogg".into(),
            mime: "audio/ogg".into(),
            duration_ms: Some(4_200),
            thumbnail: Vec::new(),
        };
        let sent = node
            .send_file(chat.clone(), file.clone(), "listen".into())
            .unwrap();
        let a = node
            .message_attachment(chat.clone(), sent.message_id.clone())
            .unwrap()
            .expect("the message carries the file");
        assert_eq!(
            (a.name.as_str(), a.size, a.duration_ms),
            ("note.ogg", 200_000, Some(4_200))
        );
        assert_eq!(a.have, a.need, "the sender holds every chunk");
        let out = dir.path().join("saved.ogg");
        let saved = node
            .save_attachment(a.blob_id[..12].into(), out.to_string_lossy().into_owned())
            .unwrap();
        assert_eq!(saved, 200_000);
        assert_eq!(std::fs::read(&out).unwrap(), data);
        // What the chat draws: a voice note, whole, worded by the core.
        assert_eq!(a.kind, super::AttachmentKind::Audio);
        assert_eq!(a.state, super::AttachmentState::Whole);
        assert_eq!(
            (a.percent, a.label.as_str()),
            (100, "note.ogg · 200 KB · 0:04")
        );
        let items = node.timeline(chat.clone(), 10, None, 0).unwrap();
        let shown = items.iter().find_map(|i| match i {
            crate::app::TimelineEntry::Message { message } => message.attachment.clone(),
            _ => None,
        });
        assert_eq!(
            shown.as_ref(),
            Some(&a),
            "the timeline carries the same attachment"
        );
        let cache = dir.path().join("cache");
        let cached = node
            .attachment_file(a.blob_id.clone(), cache.to_string_lossy().into_owned())
            .unwrap();
        assert!(cached.ends_with("-note.ogg"), "{cached}");
        assert_eq!(std::fs::read(&cached).unwrap(), data);
        assert!(node.fetch_attachment("00000000".into()).is_err());
        let limits = super::attachment_limits();
        assert_eq!(
            (limits.max_file_bytes, limits.max_thumbnail_bytes),
            (16 << 20, 8 << 10)
        );
        // The app's automatic-fetch setting, kept and cut to what is allowed.
        let limits = node.auto_fetch_limits().unwrap();
        assert!(limits.bluetooth_bytes <= limits.wifi_bytes);
        let kept = node
            .set_auto_fetch_limits(super::AutoFetchLimits {
                bluetooth_bytes: 300_000,
                wifi_bytes: u64::MAX,
            })
            .unwrap();
        assert_eq!(kept.bluetooth_bytes, 300_000);
        assert_eq!(kept.wifi_bytes, 16 << 20);
        assert_eq!(node.auto_fetch_limits().unwrap(), kept);
        let plain = node.send_in(chat.clone(), "no file".into()).unwrap();
        assert_eq!(
            node.message_attachment(chat.clone(), plain.message_id)
                .unwrap(),
            None
        );

        let big = dir.path().join("big.bin");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(pollen_proto::chunk::MAX_ATTACHMENT_BYTES + 1)
            .unwrap();
        let err = node
            .send_file(
                chat,
                FileToSend {
                    path: big.to_string_lossy().into_owned(),
                    ..file
                },
                String::new(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }
}
