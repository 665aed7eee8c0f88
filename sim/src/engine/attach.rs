//! Attachments in a run (`SimConfig::attachments`): which messages carry
//! one, sending them with the node's own `send_file`, and at the end which
//! direct recipients hold a whole one.

use super::{Engine, setup};
use crate::metrics::AttachmentFigures;
use crate::scenario::Target;
use crate::scenario::rng::SimRng;
use crate::workload::log_uniform;
use pollen_proto::chunk::{AttachmentRef, Preview};

/// The random stream attachments are drawn from: apart from the
/// scenario's, so a run with them has the same people, meetings and texts.
const STREAM: u64 = 0xa77a_c4ed;

/// For each message, the size of its attachment, if it carries one.
pub(super) fn draw(
    messages: usize,
    load: &super::config::AttachmentLoad,
    seed: u64,
) -> Vec<Option<usize>> {
    let mut rng = SimRng::new(seed, STREAM);
    (0..messages)
        .map(|_| {
            let with = rng.chance(load.share);
            let size = log_uniform(&mut rng, load.bytes);
            with.then_some(size)
        })
        .collect()
}

impl Engine<'_> {
    /// Sends message `i` with an attachment of `size` bytes, as a phone
    /// would: the file sealed into chunks held as the sender's own, the
    /// post carrying the reference.
    pub(super) fn send_with_file(
        &mut self,
        i: usize,
        size: usize,
        text: &str,
    ) -> Result<pollen_node::node::send::Sent, pollen_node::node::NodeError> {
        let m = &self.sc.messages[i];
        let to = match m.to {
            Target::Direct(to) => setup::alias(to),
            Target::Group(g) => setup::group_name(g),
            Target::Channel => setup::CHANNEL.to_owned(),
        };
        let data: Vec<u8> = (0..size).map(|b| (b as u32 ^ i as u32) as u8).collect();
        let preview = Preview {
            name: format!("m{i}.bin"),
            ..Preview::default()
        };
        let node = &self.nodes[m.from as usize].node;
        let (sent, reference) = node.send_file(&to, &data, preview, text)?;
        self.files.push((i, reference));
        self.attachments.sent += 1;
        Ok(sent)
    }

    /// The attachment figures at the end of the run.
    pub(super) fn attachment_figures(&mut self) -> AttachmentFigures {
        let mut figures = std::mem::take(&mut self.attachments);
        for n in &mut self.nodes {
            figures.chunk_transmissions += std::mem::take(&mut n.chunks_received);
            figures.chunk_bytes += std::mem::take(&mut n.chunk_bytes_received);
        }
        for (i, reference) in &self.files {
            let Target::Direct(to) = self.sc.messages[*i].to else {
                continue;
            };
            if !self.delivered.contains_key(&(*i, to)) {
                continue;
            }
            figures.direct_delivered += 1;
            let recipient = &self.nodes[to as usize].node;
            if recipient
                .attachment_progress(reference)
                .is_ok_and(|p| p.complete())
            {
                figures.direct_complete += 1;
            }
        }
        figures
    }
}

/// A reference kept to check completion at the end.
pub(super) type File = (usize, AttachmentRef);
