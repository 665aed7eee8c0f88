//! Realistic message payloads for the benchmarks to seal: one Automerge
//! post each, as a phone would send.

use crate::CliError;
use pollen_node::conversation::{self, MessageId, Op};
use pollen_node::node::{Clock, NodeError, SystemClock};
use pollen_proto::identity::Identity;
use pollen_proto::payload::Payload;

/// `count` realistic message payloads (one Automerge post each) by `author`.
pub(crate) fn payloads(author: &Identity, count: usize) -> Result<Vec<Vec<u8>>, CliError> {
    let t = Clock::now(&SystemClock) * 1000;
    (0..count)
        .map(|i| {
            let op = Op::Post {
                id: MessageId::for_author(&author.public().signing),
                text: format!("message {i}: meet at the water point by the old mill at noon"),
                reply_to: None,
                attachment: None,
            };
            let change = conversation::build_change(&author.public().signing, &op, t, &[])
                .map_err(NodeError::from)?;
            Ok(Payload::Change {
                key: change.key,
                change: change.bytes,
            }
            .encode())
        })
        .collect()
}
