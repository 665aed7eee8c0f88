use super::*;
use crate::node::SystemClock;

/// Stands in for a keystore: XOR with its key byte behind a marker naming
/// the key, so that another key refuses to open it (a real guard's AEAD
/// tag does that job).
struct XorGuard(u8);

impl KeyGuard for XorGuard {
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        let mut out = vec![b'G', self.0];
        out.extend(plain.iter().map(|b| b ^ self.0));
        Ok(out)
    }
    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        match sealed {
            [b'G', k, rest @ ..] if *k == self.0 => Ok(rest.iter().map(|b| b ^ self.0).collect()),
            _ => Err(KeyGuardError("not sealed with this key".into())),
        }
    }
}

/// Seals, but cannot open what it sealed (a keystore that lost its key).
struct Forgetful;

impl KeyGuard for Forgetful {
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        Ok(plain.to_vec())
    }
    fn unseal(&self, _: &[u8]) -> Result<Vec<u8>, KeyGuardError> {
        Err(KeyGuardError("key permanently invalidated".into()))
    }
}

/// Whether any 16-byte piece of the secret is in the database's files.
fn secret_on_disk(dir: &Path, secret: &[u8]) -> bool {
    let mut bytes = Vec::new();
    for name in [DB_FILE.to_owned(), format!("{DB_FILE}-wal")] {
        bytes.extend(std::fs::read(dir.join(name)).unwrap_or_default());
    }
    secret
        .chunks_exact(16)
        .any(|piece| bytes.windows(16).any(|w| w == piece))
}

fn clock() -> Box<dyn Clock> {
    Box::new(SystemClock)
}

#[test]
fn a_sealed_identity_opens_only_with_its_guard_and_never_lies_on_disk_in_plain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ana");
    let ana = Node::init_guarded(&dir, "Ana", clock(), &XorGuard(7)).unwrap();
    let (fingerprint, secret) = (ana.fingerprint(), ana.identity().to_secret_bytes());
    drop(ana);
    assert!(!secret_on_disk(&dir, &secret));

    let again = Node::open_guarded(&dir, clock(), &XorGuard(7)).unwrap();
    assert_eq!(again.fingerprint(), fingerprint);
    drop(again);
    assert!(matches!(
        Node::open(&dir, clock()),
        Err(NodeError::IdentitySealed(_))
    ));
    assert!(matches!(
        Node::init(&dir, "Mallory", clock()),
        Err(NodeError::AlreadyInitialized(_))
    ));
    assert!(matches!(
        Node::init_guarded(&dir, "Mallory", clock(), &XorGuard(7)),
        Err(NodeError::AlreadyInitialized(_))
    ));
}

#[test]
fn a_plain_identity_is_sealed_at_the_first_guarded_open_and_its_plain_bytes_erased() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bo");
    let bo = Node::init(&dir, "Bo", clock()).unwrap();
    let (fingerprint, secret) = (bo.fingerprint(), bo.identity().to_secret_bytes());
    drop(bo);
    // The search finds a plain secret: its absence below means something.
    assert!(secret_on_disk(&dir, &secret));

    let bo = Node::open_guarded(&dir, clock(), &XorGuard(9)).unwrap();
    assert_eq!(bo.fingerprint(), fingerprint);
    assert_eq!(bo.store().meta(IDENTITY_KEY).unwrap(), None);
    assert!(bo.store().meta(SEALED_IDENTITY_KEY).unwrap().is_some());
    assert!(
        !secret_on_disk(&dir, &secret),
        "the plain secret is still in the file"
    );
    drop(bo);
    assert_eq!(
        Node::open_guarded(&dir, clock(), &XorGuard(9))
            .unwrap()
            .fingerprint(),
        fingerprint
    );
}

#[test]
fn a_guard_that_cannot_open_the_secret_fails_closed_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chen");
    let fingerprint = Node::init_guarded(&dir, "Chen", clock(), &XorGuard(3))
        .unwrap()
        .fingerprint();
    let before = std::fs::read(dir.join(DB_FILE)).unwrap();
    let wrong = Node::open_guarded(&dir, clock(), &XorGuard(4));
    assert!(
        matches!(&wrong, Err(NodeError::KeyGuard(e)) if e.to_string().contains("not sealed with this key")),
        "{:?}",
        wrong.err()
    );
    assert_eq!(std::fs::read(dir.join(DB_FILE)).unwrap(), before);
    // No new identity was made over the old one: the right key still opens it.
    let chen = Node::open_guarded(&dir, clock(), &XorGuard(3)).unwrap();
    assert_eq!(chen.fingerprint(), fingerprint);
}

#[test]
fn a_guard_that_cannot_open_what_it_sealed_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dee");
    assert!(matches!(
        Node::init_guarded(&dir, "Dee", clock(), &Forgetful),
        Err(NodeError::KeyGuard(_))
    ));
    assert!(matches!(
        Node::open_guarded(&dir, clock(), &XorGuard(1)),
        Err(NodeError::NotInitialized(_))
    ));
    // Upgrading a plain identity with it leaves the plain one in place.
    let plain = tmp.path().join("eve");
    let fingerprint = Node::init(&plain, "Eve", clock()).unwrap().fingerprint();
    assert!(matches!(
        Node::open_guarded(&plain, clock(), &Forgetful),
        Err(NodeError::KeyGuard(_))
    ));
    assert_eq!(
        Node::open(&plain, clock()).unwrap().fingerprint(),
        fingerprint
    );
}
