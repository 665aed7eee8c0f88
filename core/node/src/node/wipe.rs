//! Panic wipe: everything a seized device would give away (identity keys,
//! messages, attachments, caches) is overwritten and removed from the data
//! directory.

use super::{DB_FILE, Node, NodeError};
use std::io::Write;
use std::path::Path;

impl Node {
    /// Closes the store and wipes the whole data directory (see
    /// [`wipe_data_dir`]). The node is consumed: nothing of it stays open.
    pub fn wipe(self) -> Result<u64, NodeError> {
        let dir = self.dir.clone();
        drop(self);
        wipe_data_dir(&dir)
    }
}

/// Overwrites with zeros, then deletes, every file under `dir` (the database
/// and its -wal/-shm/-journal, status and relay files, anything cached), then
/// the directory itself; returns the number of files removed. Refuses a
/// directory without a Pollen database, so a mistyped path cannot erase
/// unrelated files. Zeroing first means a file system that keeps freed blocks
/// does not keep them readable; flash wear levelling may still hold old
/// copies, which only full-disk encryption (the phone's) covers.
pub fn wipe_data_dir(dir: &Path) -> Result<u64, NodeError> {
    if !dir.join(DB_FILE).is_file() {
        return Err(NodeError::NotInitialized(dir.to_owned()));
    }
    let removed = wipe_tree(dir)?;
    std::fs::remove_dir(dir).map_err(|e| NodeError::io(dir, e))?;
    tracing::info!(dir = %dir.display(), files = removed, "data directory wiped");
    Ok(removed)
}

fn wipe_tree(dir: &Path) -> Result<u64, NodeError> {
    let mut removed = 0;
    let entries = std::fs::read_dir(dir).map_err(|e| NodeError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| NodeError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| NodeError::io(&path, e))?;
        if kind.is_dir() {
            removed += wipe_tree(&path)?;
            std::fs::remove_dir(&path).map_err(|e| NodeError::io(&path, e))?;
        } else {
            if kind.is_file() {
                zero_file(&path)?;
            }
            // Symlinks are removed, never followed: wiping stays inside `dir`.
            std::fs::remove_file(&path).map_err(|e| NodeError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn zero_file(path: &Path) -> Result<(), NodeError> {
    let io = |e| NodeError::io(path, e);
    let len = std::fs::metadata(path).map_err(io)?.len();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io)?;
    let zeros = vec![0u8; 64 << 10];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n]).map_err(io)?;
        left -= n as u64;
    }
    f.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::SystemClock;

    /// Every byte under `dir`, concatenated (empty when it is gone).
    fn all_bytes(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.path().is_dir() {
                    out.extend(all_bytes(&e.path()));
                } else {
                    out.extend(std::fs::read(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn p7_wipe_leaves_nothing_of_the_identity_or_messages_and_init_works_again() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        let ana = Node::init(&dir, "Ana", Box::new(SystemClock)).unwrap();
        let bo = Node::in_memory("Bo", Default::default(), Box::new(SystemClock)).unwrap();
        ana.add_contact(&bo.card(), None).unwrap();
        ana.send("Bo", "meet at the old mill").unwrap();
        std::fs::create_dir_all(dir.join("cache")).unwrap();
        std::fs::write(dir.join("cache/thumb"), b"attachment preview").unwrap();
        let secret = ana.me.to_secret_bytes();
        // Before: the key and the message are on disk (the check can fail).
        let before = all_bytes(&dir);
        assert!(contains(&before, &secret[1..33]), "identity seed on disk");

        let removed = ana.wipe().unwrap();
        assert!(removed >= 2, "{removed}");
        assert!(!dir.exists());
        let after = all_bytes(root.path());
        assert!(!contains(&after, &secret[1..33]));
        assert!(!contains(&after, b"attachment preview"));
        assert!(matches!(
            Node::open(&dir, Box::new(SystemClock)),
            Err(NodeError::NotInitialized(_))
        ));

        let fresh = Node::init(&dir, "Ana", Box::new(SystemClock)).unwrap();
        assert_ne!(fresh.public().signing, bo.public().signing);
        assert!(fresh.contacts().unwrap().is_empty());
    }

    #[test]
    fn p7_wipe_refuses_a_directory_that_is_not_pollens() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("notes.txt"), b"mine").unwrap();
        assert!(matches!(
            wipe_data_dir(root.path()),
            Err(NodeError::NotInitialized(_))
        ));
        assert_eq!(
            std::fs::read(root.path().join("notes.txt")).unwrap(),
            b"mine"
        );
    }
}
