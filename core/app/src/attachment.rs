//! An attachment as a chat draws it: what kind of file it is, whether it is
//! here, coming, or waiting for the user to ask, how far it got, and the
//! line under it. Both apps draw these; neither decides them.

use crate::AppError;
use pollen_node::Node;
use pollen_node::attachments::{Asked, Progress};
use pollen_proto::chunk::AttachmentRef;
use std::path::{Path, PathBuf};

/// What the file is, from its media type: how the chat shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl AttachmentKind {
    /// The kind of a media type such as `image/jpeg` (case and parameters ignored).
    pub fn of_mime(mime: &str) -> AttachmentKind {
        let top = mime.split('/').next().unwrap_or("").trim();
        match top.to_ascii_lowercase().as_str() {
            "image" => AttachmentKind::Image,
            "audio" => AttachmentKind::Audio,
            "video" => AttachmentKind::Video,
            _ => AttachmentKind::File,
        }
    }
}

/// Where the file is, for this phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentState {
    /// Every chunk is here: show, play or open it.
    Whole,
    /// Asked for over every link; chunks are arriving.
    Coming,
    /// Fetched on its own over Wi-Fi only (larger than the Bluetooth
    /// limit); a tap asks for it over Bluetooth too.
    WifiOnly,
    /// Not asked for (larger than the automatic limits, or from someone not
    /// in the contacts): a tap fetches it.
    Ask,
}

/// One attachment as the chat draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentView {
    /// The sender's reference (blob id, preview).
    pub reference: AttachmentRef,
    /// Image, audio, video or file.
    pub kind: AttachmentKind,
    /// Here, coming, or waiting for the user.
    pub state: AttachmentState,
    /// Verified chunks held.
    pub have: u16,
    /// Chunks the file has.
    pub need: u16,
}

impl AttachmentView {
    /// The view of `reference` with the chunks held and whether they are asked for.
    pub fn new(reference: AttachmentRef, progress: Progress) -> AttachmentView {
        // Chunks carried for others may make a file whole here unasked (a
        // stranger's photo): it is shown only once the user asks for it.
        let state = match (progress.asked, progress.complete()) {
            (Asked::No, _) => AttachmentState::Ask,
            (_, true) => AttachmentState::Whole,
            (Asked::Everywhere, false) => AttachmentState::Coming,
            (Asked::FastLinks, false) => AttachmentState::WifiOnly,
        };
        AttachmentView {
            kind: AttachmentKind::of_mime(&reference.preview.mime),
            reference,
            state,
            have: progress.have,
            need: progress.need,
        }
    }

    /// Chunks held, as a whole percentage (100 only when every chunk is here).
    pub fn percent(&self) -> u8 {
        if self.have >= self.need {
            return 100;
        }
        (u32::from(self.have) * 100 / u32::from(self.need.max(1))).min(99) as u8
    }

    /// The line under the attachment: "map.jpg · 1.2 MB · 0:42" when here,
    /// "40 % of 1.2 MB" while coming, "1.2 MB · comes over Wi-Fi" or
    /// "1.2 MB · tap to download" when it waits.
    pub fn label(&self) -> String {
        let p = &self.reference.preview;
        let size = human_size(p.size);
        match self.state {
            AttachmentState::Whole => {
                let mut parts = vec![p.name.clone(), size];
                if let Some(ms) = p.duration_ms {
                    parts.push(duration(ms));
                }
                parts.retain(|s| !s.is_empty());
                parts.join(" · ")
            }
            AttachmentState::Coming => format!("{} % of {size}", self.percent()),
            AttachmentState::WifiOnly => format!("{size} · comes over Wi-Fi · tap to fetch now"),
            AttachmentState::Ask if self.have >= self.need => format!("{size} · tap to open"),
            AttachmentState::Ask => format!("{size} · tap to download"),
        }
    }
}

/// What stands for an attachment where there is one line (a chat list
/// preview, a notification, a message without text): "Photo", "Voice note
/// 0:42", "Video", or a file's name.
pub fn headline(reference: &AttachmentRef) -> String {
    let p = &reference.preview;
    match AttachmentKind::of_mime(&p.mime) {
        AttachmentKind::Image => "Photo".to_owned(),
        AttachmentKind::Audio => match p.duration_ms {
            Some(ms) => format!("Voice note {}", duration(ms)),
            None => "Voice note".to_owned(),
        },
        AttachmentKind::Video => "Video".to_owned(),
        AttachmentKind::File if p.name.trim().is_empty() => "File".to_owned(),
        AttachmentKind::File => p.name.clone(),
    }
}

/// The name an attachment is saved under in a directory of the app's: the
/// start of its blob id (so two files called `photo.jpg` do not meet) and
/// the sender's name made safe (no path, no hidden or control characters,
/// at most 80 bytes, its extension kept).
pub fn file_name(reference: &AttachmentRef) -> String {
    let id = hex::encode(&reference.blob.0[..8]);
    let given = reference
        .preview
        .name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    let clean: String = given
        .chars()
        .map(|c| {
            if c.is_control() || ":*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.').trim();
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.len() <= 8 => (s, format!(".{e}")),
        _ => (clean, String::new()),
    };
    let mut stem = stem.to_owned();
    while stem.len() + ext.len() > 80 {
        stem.pop();
    }
    if stem.is_empty() {
        format!("{id}{ext}")
    } else {
        format!("{id}-{stem}{ext}")
    }
}

/// Writes a whole attachment into `dir` once, under [`file_name`], and
/// returns its path: what an app shows inline, plays or opens. A file
/// already there with the right size is kept; it is written to a temporary
/// name first, so a crash never leaves half a file under the real name.
/// Refused while chunks are missing.
pub fn file_in(node: &Node, reference: &AttachmentRef, dir: &Path) -> Result<PathBuf, AppError> {
    let path = dir.join(file_name(reference));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == reference.preview.size) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| pollen_node::NodeError::io(dir, e))?;
    let partial = dir.join(format!(".{}.partial", file_name(reference)));
    node.save_attachment(reference, &partial)?;
    std::fs::rename(&partial, &path).map_err(|e| pollen_node::NodeError::io(&path, e))?;
    Ok(path)
}

/// "512 B", "48 KB", "1.2 MB" (powers of 1,000, as phones show sizes).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..=999 => format!("{bytes} B"),
        1_000..=999_999 => format!("{} KB", bytes / 1_000),
        _ => format!("{}.{} MB", bytes / 1_000_000, bytes % 1_000_000 / 100_000),
    }
}

/// "0:42", "12:03" (minutes and seconds, rounded down).
pub fn duration(ms: u32) -> String {
    let secs = ms / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollen_proto::chunk::{Preview, seal_attachment};

    fn reference(mime: &str, size: usize, duration_ms: Option<u32>) -> AttachmentRef {
        let preview = Preview {
            name: "note.m4a".into(),
            mime: mime.into(),
            size: 0,
            duration_ms,
            thumbnail: Vec::new(),
        };
        seal_attachment(&vec![7u8; size], preview, 99)
            .unwrap()
            .reference
    }

    fn progress(have: u16, need: u16, asked: Asked) -> Progress {
        Progress { have, need, asked }
    }

    #[test]
    fn the_kind_follows_the_media_type() {
        assert_eq!(AttachmentKind::of_mime("image/jpeg"), AttachmentKind::Image);
        assert_eq!(
            AttachmentKind::of_mime("Audio/MP4; codecs=aac"),
            AttachmentKind::Audio
        );
        assert_eq!(AttachmentKind::of_mime("video/mp4"), AttachmentKind::Video);
        assert_eq!(
            AttachmentKind::of_mime("application/pdf"),
            AttachmentKind::File
        );
        assert_eq!(AttachmentKind::of_mime(""), AttachmentKind::File);
    }

    #[test]
    fn state_percent_and_label_follow_the_chunks_held_and_what_was_asked() {
        let r = reference("audio/mp4", 1_234_567, Some(42_500));
        let need = r.chunk_count();
        assert!(need > 4);
        let whole = AttachmentView::new(r.clone(), progress(need, need, Asked::Everywhere));
        assert_eq!(whole.state, AttachmentState::Whole);
        assert_eq!(whole.kind, AttachmentKind::Audio);
        assert_eq!(whole.percent(), 100);
        assert_eq!(whole.label(), "note.m4a · 1.2 MB · 0:42");

        let coming = AttachmentView::new(r.clone(), progress(need / 2, need, Asked::Everywhere));
        assert_eq!(coming.state, AttachmentState::Coming);
        assert_eq!(
            coming.percent(),
            (u32::from(need / 2) * 100 / u32::from(need)) as u8
        );
        assert!(
            coming.label().ends_with("% of 1.2 MB"),
            "{}",
            coming.label()
        );

        // One chunk short is not 100 %.
        let almost = AttachmentView::new(r.clone(), progress(need - 1, need, Asked::Everywhere));
        assert!(almost.percent() < 100);
        let nearly = AttachmentView::new(r.clone(), progress(199, 200, Asked::Everywhere));
        assert_eq!(nearly.percent(), 99);

        let wifi = AttachmentView::new(r.clone(), progress(0, need, Asked::FastLinks));
        assert_eq!(wifi.state, AttachmentState::WifiOnly);
        assert_eq!(wifi.label(), "1.2 MB · comes over Wi-Fi · tap to fetch now");

        let ask = AttachmentView::new(r.clone(), progress(0, need, Asked::No));
        assert_eq!(ask.state, AttachmentState::Ask);
        assert_eq!(ask.percent(), 0);
        assert_eq!(ask.label(), "1.2 MB · tap to download");

        // Here in full as carried chunks, but nobody asked: not shown unasked.
        let carried = AttachmentView::new(r, progress(need, need, Asked::No));
        assert_eq!(carried.state, AttachmentState::Ask);
        assert_eq!(carried.label(), "1.2 MB · tap to open");
    }

    #[test]
    fn a_saved_name_keeps_no_path_no_hidden_start_and_its_extension() {
        let mut r = reference("image/png", 10, None);
        let id = hex::encode(&r.blob.0[..8]);
        for (given, saved) in [
            ("map.png", format!("{id}-map.png")),
            ("../../etc/passwd", format!("{id}-passwd")),
            ("C:\\x\\.hidden.png", format!("{id}-hidden.png")),
            ("a\u{7}b?.png", format!("{id}-a_b_.png")),
            ("", id.clone()),
            (".png", format!("{id}-png")),
        ] {
            r.preview.name = given.into();
            assert_eq!(file_name(&r), saved, "{given:?}");
        }
        r.preview.name = format!("{}.jpeg", "x".repeat(300));
        let long = file_name(&r);
        assert!(long.ends_with(".jpeg") && long.len() <= 80 + 17, "{long}");
    }

    #[test]
    fn a_headline_says_what_the_attachment_is() {
        assert_eq!(headline(&reference("image/jpeg", 10, None)), "Photo");
        assert_eq!(
            headline(&reference("audio/mp4", 10, Some(3_200))),
            "Voice note 0:03"
        );
        assert_eq!(headline(&reference("video/mp4", 10, None)), "Video");
        assert_eq!(
            headline(&reference("application/pdf", 10, None)),
            "note.m4a"
        );
    }

    #[test]
    fn sizes_and_durations_read_as_phones_show_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(48_900), "48 KB");
        assert_eq!(human_size(16_777_216), "16.7 MB");
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(723_999), "12:03");
    }
}
