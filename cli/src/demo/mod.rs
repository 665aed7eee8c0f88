//! `pollen demo`: narrated walk-throughs on one machine. The default is the
//! mesh (nodes over loopback, a carrier between two groups that never meet);
//! `--sneakernet` is the USB-stick story.

mod mesh;
mod sneakernet;

pub use mesh::run as mesh;
pub use sneakernet::run as sneakernet;

use crate::CliError;
use pollen_node::node::Node;

/// Why the demo's recipient sends its delivery proofs at once.
const IMMEDIATE_RECEIPTS: &str = "Chen chose immediate delivery receipts, so the demo need not wait: by default a phone holds a proof back 0-10 minutes and sends it with its batch, so whoever handed the message over does not learn at once that it was for Chen.";

fn step(n: u32, text: &str) {
    println!("\n{n}. {text}");
}

fn say(text: impl AsRef<str>) {
    println!("   {}", text.as_ref());
}

fn inbox(node: &Node, who: &str) -> Result<(), CliError> {
    let mut rows = node.messages(None, 20, None)?;
    rows.reverse();
    if rows.is_empty() {
        say(format!("{who}'s inbox: (empty)"));
    }
    for m in rows {
        say(format!(
            "{who}'s inbox: [{}] {}: {:?} ({})",
            m.conversation_name, m.from, m.text, m.status
        ));
    }
    Ok(())
}
