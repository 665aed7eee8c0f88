use super::*;
use proptest::prelude::*;

const ANA: ContactKey = ContactKey([1; 32]);
const BO: ContactKey = ContactKey([2; 32]);
const CY: ContactKey = ContactKey([3; 32]);

fn post(author: &ContactKey, text: &str, at: u64) -> (MessageId, BuiltChange) {
    let id = MessageId::for_author(author);
    let op = Op::Post {
        id,
        text: text.into(),
        reply_to: None,
        attachment: None,
    };
    (id, build_change(author, &op, at, &[]).unwrap())
}

/// A built change, or None when the op changed nothing.
fn built(r: Result<BuiltChange, ConversationError>) -> Option<BuiltChange> {
    match r {
        Ok(c) => Some(c),
        Err(ConversationError::NoChange) => None,
        Err(e) => panic!("{e}"),
    }
}

fn texts(doc: &ConversationDoc) -> Vec<String> {
    doc.messages().into_iter().map(|m| m.text).collect()
}

#[test]
fn a_post_shows_at_once_even_out_of_order() {
    let (_, p1) = post(&ANA, "one", 10);
    let (_, p2) = post(&ANA, "two", 20);
    let (_, p3) = post(&ANA, "three", 30);
    let mut doc = ConversationDoc::new();
    assert_eq!(
        doc.apply(std::slice::from_ref(&p3.bytes)).unwrap(),
        vec![p3.hash]
    );
    assert_eq!(texts(&doc), ["three"]);
    doc.apply(&[p2.bytes.clone(), p1.bytes.clone(), p3.bytes])
        .unwrap();
    assert_eq!(texts(&doc), ["one", "two", "three"]);
}

#[test]
fn an_edit_before_its_post_waits_then_applies() {
    let (id, p) = post(&ANA, "draft", 10);
    let e1 = build_change(
        &ANA,
        &Op::Edit {
            id,
            text: "v1".into(),
        },
        11,
        std::slice::from_ref(&p.bytes),
    )
    .unwrap();
    let e2 = build_change(
        &ANA,
        &Op::Edit {
            id,
            text: "v2".into(),
        },
        12,
        &[p.bytes.clone(), e1.bytes.clone()],
    )
    .unwrap();
    let mut doc = ConversationDoc::new();
    assert!(
        doc.apply(&[e2.bytes.clone(), e1.bytes.clone()])
            .unwrap()
            .is_empty()
    );
    assert_eq!(doc.queued(), 2);
    assert!(doc.messages().is_empty());
    let mut applied = doc.apply(&[p.bytes]).unwrap();
    applied.sort();
    let mut want = vec![p.hash, e1.hash, e2.hash];
    want.sort();
    assert_eq!(applied, want);
    let m = doc.message(&id).unwrap();
    assert_eq!((m.text.as_str(), m.edited_at), ("v2", Some(12)));
    assert_eq!(doc.queued(), 0);
}

#[test]
fn nobody_but_the_owner_writes_a_key() {
    let (id, p) = post(&ANA, "mine", 10);
    // Bo builds a validly-authored change of his own that overwrites Ana's text.
    let hijack = build_change(
        &BO,
        &Op::Edit {
            id,
            text: "hijacked".into(),
        },
        11,
        std::slice::from_ref(&p.bytes),
    )
    .unwrap();
    assert_eq!(
        check_change(&BO, &hijack.bytes),
        Err(ConversationError::BadKey("t".into()))
    );
    // Claimed as Ana's it is refused too: the actor is Bo's.
    assert_eq!(
        check_change(&ANA, &hijack.bytes),
        Err(ConversationError::BadKey("t".into()))
    );
    let react = build_change(
        &BO,
        &Op::React {
            id,
            emoji: "🔥".into(),
        },
        12,
        std::slice::from_ref(&p.bytes),
    )
    .unwrap();
    assert_eq!(
        check_change(&ANA, &react.bytes),
        Err(ConversationError::WrongAuthor)
    );
    let mut doc = ConversationDoc::new();
    assert!(doc.apply(std::slice::from_ref(&hijack.bytes)).is_err());
    doc.apply(&[p.bytes, react.bytes]).unwrap();
    let m = doc.message(&id).unwrap();
    assert_eq!(m.text, "mine");
    assert_eq!(m.edited_at, None);
    assert_eq!(m.author, ANA);
    assert_eq!(m.reactions, vec![(BO, "🔥".to_owned())]);
}

#[test]
fn delete_react_read_and_save_load() {
    let (id, p) = post(&ANA, "bye", 10);
    let del = build_change(&ANA, &Op::Delete { id }, 11, std::slice::from_ref(&p.bytes)).unwrap();
    let r = build_change(
        &CY,
        &Op::React {
            id,
            emoji: "👋".into(),
        },
        12,
        std::slice::from_ref(&p.bytes),
    )
    .unwrap();
    let unreact = build_change(
        &CY,
        &Op::React {
            id,
            emoji: String::new(),
        },
        13,
        &[p.bytes.clone(), r.bytes.clone()],
    )
    .unwrap();
    let read = build_change(&BO, &Op::Read { up_to: 10 }, 14, &[]).unwrap();
    let mut doc = ConversationDoc::new();
    doc.apply(&[p.bytes, del.bytes, r.bytes, unreact.bytes, read.bytes])
        .unwrap();
    let m = doc.message(&id).unwrap();
    assert!(m.deleted);
    assert_eq!(m.text, "");
    assert!(m.reactions.is_empty());
    assert_eq!(doc.read_markers(), vec![(BO, 10)]);
    let saved = doc.save();
    let loaded = ConversationDoc::load(&saved).unwrap();
    assert_eq!(loaded.messages(), doc.messages());
    assert_eq!(loaded.read_markers(), doc.read_markers());
}

#[test]
fn bad_changes_are_refused_and_leave_the_document_alone() {
    let (_, p) = post(&ANA, "keep", 10);
    let mut doc = ConversationDoc::new();
    doc.apply(std::slice::from_ref(&p.bytes)).unwrap();
    let before = doc.messages();
    let mut truncated = p.bytes.clone();
    truncated.truncate(truncated.len() / 2);
    for bad in [
        vec![],
        vec![0xff; 40],
        truncated,
        vec![0; MAX_CHANGE_BYTES + 1],
    ] {
        assert!(check_change(&ANA, &bad).is_err());
        assert!(doc.apply(&[bad]).is_err());
        assert_eq!(doc.messages(), before);
    }
    // A change from an actor without Pollen's shape is refused.
    let mut plain = automerge::AutoCommit::new();
    plain.put(ROOT, "m:00", "x").unwrap();
    let bytes = plain.get_last_local_change().unwrap().bytes().into_owned();
    assert_eq!(check_change(&ANA, &bytes), Err(ConversationError::BadActor));
    assert!(matches!(
        build_change(
            &ANA,
            &Op::Edit {
                id: MessageId([9; 16]),
                text: "x".into()
            },
            1,
            &[]
        ),
        Err(ConversationError::MissingBase)
    ));
    assert!(matches!(
        build_change(
            &ANA,
            &Op::Post {
                id: MessageId([9; 16]),
                text: "x".repeat(MAX_TEXT_BYTES + 1),
                reply_to: None,
                attachment: None,
            },
            1,
            &[]
        ),
        Err(ConversationError::TextTooLong(_))
    ));
}

#[test]
fn size_of_a_busy_conversation() {
    let mut doc = ConversationDoc::new();
    let changes: Vec<Vec<u8>> = (0..2000)
        .map(|i| post(&ANA, &format!("message number {i}"), 1000 + i).1.bytes)
        .collect();
    let change_bytes: usize = changes.iter().map(Vec::len).sum();
    doc.apply(&changes).unwrap();
    let saved = doc.save().len();
    eprintln!(
        "2000 posts: {} bytes of changes ({} per change), saved document {} bytes ({} per message)",
        change_bytes,
        change_bytes / 2000,
        saved,
        saved / 2000
    );
    assert_eq!(doc.messages().len(), 2000);
}

#[derive(Clone, Debug)]
enum Step {
    Post(usize),
    Edit(usize, usize),
    Delete(usize, usize),
    React(usize, usize, u8),
    Read(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..3usize).prop_map(Step::Post),
        (0..3usize, 0..16usize).prop_map(|(a, m)| Step::Edit(a, m)),
        (0..3usize, 0..16usize).prop_map(|(a, m)| Step::Delete(a, m)),
        (0..3usize, 0..16usize, 0..3u8).prop_map(|(a, m, e)| Step::React(a, m, e)),
        (0..3usize).prop_map(Step::Read),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Three authors, a random script; three replicas receive every change in
    /// a different order (with duplicates) and end identical.
    #[test]
    fn replicas_converge(script in prop::collection::vec(step(), 1..40), seeds in prop::collection::vec(any::<u64>(), 3)) {
        let authors = [ANA, BO, CY];
        let mut all: Vec<Vec<u8>> = Vec::new();
        // Per message: its id, author and the changes touching it (the author's base).
        let mut msgs: Vec<(MessageId, usize, Vec<Vec<u8>>)> = Vec::new();
        let mut reads: [Vec<Vec<u8>>; 3] = Default::default();
        for (t, s) in script.iter().enumerate() {
            let t = t as u64 + 100;
            match *s {
                Step::Post(a) => {
                    let (id, c) = post(&authors[a], &format!("p{t}"), t);
                    all.push(c.bytes.clone());
                    msgs.push((id, a, vec![c.bytes]));
                }
                Step::Edit(a, m) | Step::Delete(a, m) => {
                    let own: Vec<usize> = (0..msgs.len()).filter(|&i| msgs[i].1 == a).collect();
                    if own.is_empty() { continue; }
                    let i = own[m % own.len()];
                    let op = if matches!(s, Step::Edit(..)) { Op::Edit { id: msgs[i].0, text: format!("e{t}") } } else { Op::Delete { id: msgs[i].0 } };
                    let Some(c) = built(build_change(&authors[a], &op, t, &msgs[i].2)) else { continue };
                    all.push(c.bytes.clone());
                    msgs[i].2.push(c.bytes);
                }
                Step::React(a, m, e) => {
                    if msgs.is_empty() { continue; }
                    let i = m % msgs.len();
                    let emoji = ["", "👍", "❤"][e as usize].to_owned();
                    let Some(c) = built(build_change(&authors[a], &Op::React { id: msgs[i].0, emoji }, t, &msgs[i].2)) else { continue };
                    all.push(c.bytes.clone());
                    msgs[i].2.push(c.bytes);
                }
                Step::Read(a) => {
                    let c = build_change(&authors[a], &Op::Read { up_to: t }, t, &reads[a]).unwrap();
                    all.push(c.bytes.clone());
                    reads[a].push(c.bytes);
                }
            }
        }
        let mut reference = ConversationDoc::new();
        for c in &all {
            reference.apply(std::slice::from_ref(c)).unwrap();
        }
        prop_assert_eq!(reference.queued(), 0);
        for seed in seeds {
            let mut order: Vec<Vec<u8>> = all.iter().chain(all.iter().take(3)).cloned().collect();
            let mut x = seed | 1;
            for i in (1..order.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut replica = ConversationDoc::new();
            for chunk in order.chunks(3) {
                replica.apply(chunk).unwrap();
            }
            prop_assert_eq!(replica.messages(), reference.messages());
            prop_assert_eq!(replica.read_markers(), reference.read_markers());
            prop_assert_eq!(replica.queued(), 0);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = check_change(&ANA, &bytes);
        let mut doc = ConversationDoc::new();
        let _ = doc.apply(&[bytes]);
        prop_assert!(doc.messages().is_empty());
    }
}

#[test]
fn queued_changes_survive_save_and_load() {
    let (id, p) = post(&ANA, "draft", 10);
    let e = build_change(
        &ANA,
        &Op::Edit {
            id,
            text: "final".into(),
        },
        11,
        std::slice::from_ref(&p.bytes),
    )
    .unwrap();
    let mut doc = ConversationDoc::new();
    doc.apply(std::slice::from_ref(&e.bytes)).unwrap();
    let mut reloaded = ConversationDoc::load(&doc.save()).unwrap();
    reloaded.apply(&[p.bytes]).unwrap();
    assert_eq!(reloaded.message(&id).unwrap().text, "final");
}

/// Runs `validate` on a thread; None if it did not return within 5 s.
fn validate_within_5s(bytes: Vec<u8>) -> Option<Result<(), ConversationError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(validate(&bytes).map(|_| ()));
    });
    rx.recv_timeout(std::time::Duration::from_secs(5)).ok()
}

#[test]
fn d1_a_change_with_huge_run_length_counts_is_refused_at_once() {
    let bomb = super::bounds::tests::rle_bomb(&ANA.0, i64::MAX / 4);
    assert!(bomb.len() < 300, "a small change: {} bytes", bomb.len());
    let result = validate_within_5s(bomb).expect("validating a small change must not hang");
    assert!(result.is_err(), "{result:?}");
    // The receiver still takes honest changes.
    let (_, p) = post(&ANA, "still fine", 1);
    let mut doc = ConversationDoc::new();
    assert_eq!(doc.apply(&[p.bytes]).unwrap().len(), 1);
}

#[test]
fn d1_a_compressed_change_that_inflates_past_the_cap_is_refused() {
    let bomb = super::bounds::tests::deflate_bomb(8 << 20);
    assert!(bomb.len() <= MAX_CHANGE_BYTES, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let result = validate_within_5s(bomb).expect("no hang");
    assert!(result.is_err(), "{result:?}");
    eprintln!("8 MiB deflate bomb refused in {:?}", started.elapsed());
}

#[test]
fn s9_a_message_cannot_be_hidden_by_reusing_its_id() {
    let (id, ana) = post(&ANA, "the real message", 10);
    // Bo writes his own message map under Ana's id, by hand.
    let mut forged = automerge::AutoCommit::new();
    forged.set_actor(fresh_actor(&BO).unwrap());
    let obj = forged
        .put_object(ROOT, message_key(&id), ObjType::Map)
        .unwrap();
    forged.put(&obj, "s", 20u64).unwrap();
    forged.put(&obj, "t", "nothing to see here").unwrap();
    let bytes = forged.get_last_local_change().unwrap().bytes().into_owned();
    assert!(matches!(
        check_change(&BO, &bytes),
        Err(ConversationError::BadKey(_))
    ));
    let mut doc = ConversationDoc::new();
    doc.apply(std::slice::from_ref(&ana.bytes)).unwrap();
    assert!(doc.apply(&[bytes]).is_err());
    assert_eq!(texts(&doc), ["the real message"]);
    assert_eq!(doc.message(&id).unwrap().author, ANA);
    // Nor can Bo build one through the API.
    let op = Op::Post {
        id,
        text: "x".into(),
        reply_to: None,
        attachment: None,
    };
    assert!(matches!(
        build_change(&BO, &op, 1, &[]),
        Err(ConversationError::BadMessageId(_))
    ));
    assert!(id.is_by(&ANA) && !id.is_by(&BO));
}

#[test]
fn d11_text_and_reactions_over_the_limits_are_refused_on_receive() {
    let (id, p) = post(&ANA, "short", 1);
    // A modified client writes past the limits by hand.
    let long_text = |author: &ContactKey, key: &str, len: usize| {
        let mut d = automerge::AutoCommit::new();
        d.apply_changes([Change::from_bytes(p.bytes.clone()).unwrap()])
            .unwrap();
        d.set_actor(fresh_actor(author).unwrap());
        let obj = message_obj(&d, &message_key(&id)).unwrap();
        d.put(&obj, key, "a".repeat(len)).unwrap();
        d.get_last_local_change().unwrap().bytes().into_owned()
    };
    let text = long_text(&ANA, "t", MAX_TEXT_BYTES + 1);
    assert!(text.len() <= MAX_CHANGE_BYTES);
    assert_eq!(
        check_change(&ANA, &text),
        Err(ConversationError::TextTooLong(MAX_TEXT_BYTES + 1))
    );
    let emoji = long_text(&BO, &format!("x:{}", hex::encode(BO)), 1000);
    assert_eq!(
        check_change(&BO, &emoji),
        Err(ConversationError::EmojiTooLong(1000))
    );
    // At the limits, both are taken.
    assert!(check_change(&ANA, &long_text(&ANA, "t", MAX_TEXT_BYTES)).is_ok());
    let mut doc = ConversationDoc::new();
    doc.apply(std::slice::from_ref(&p.bytes)).unwrap();
    assert!(doc.apply(&[text]).is_err());
    assert_eq!(texts(&doc), ["short"]);
}

fn reference(thumbnail: usize, name_len: usize) -> pollen_proto::chunk::AttachmentRef {
    use pollen_proto::chunk::{Preview, seal_attachment};
    let mut thumb = vec![0u8; thumbnail];
    pollen_proto::random::fill(&mut thumb).unwrap();
    let preview = Preview {
        name: "n".repeat(name_len),
        mime: "image/jpeg".into(),
        thumbnail: thumb,
        ..Preview::default()
    };
    seal_attachment(b"a photo of the map", preview, 99)
        .unwrap()
        .reference
}

#[test]
fn a_post_carries_an_attachment_reference_within_its_limits() {
    use pollen_proto::chunk::reference::{MAX_NAME_BYTES, MAX_THUMBNAIL_BYTES};
    let full = reference(MAX_THUMBNAIL_BYTES, MAX_NAME_BYTES);
    let id = MessageId::for_author(&ANA);
    let op = Op::Post {
        id,
        text: "x".repeat(MAX_TEXT_BYTES),
        reply_to: None,
        attachment: Some(full.encode()),
    };
    let change = build_change(&ANA, &op, 5, &[]).unwrap();
    // The largest reference beside the longest text still fits one change.
    assert!(
        change.bytes.len() <= MAX_CHANGE_BYTES,
        "{}",
        change.bytes.len()
    );
    check_change(&ANA, &change.bytes).unwrap();
    let mut doc = ConversationDoc::new();
    doc.apply(std::slice::from_ref(&change.bytes)).unwrap();
    assert_eq!(doc.message(&id).unwrap().attachment, Some(full));
    // A text-only post has none.
    let (plain, p) = post(&ANA, "hi", 6);
    doc.apply(std::slice::from_ref(&p.bytes)).unwrap();
    assert_eq!(doc.message(&plain).unwrap().attachment, None);

    // Bytes that are no reference, or `a` as a string, are refused on
    // receive; and refused when building.
    let bad = Op::Post {
        id: MessageId::for_author(&ANA),
        text: "x".into(),
        reply_to: None,
        attachment: Some(vec![1, 2, 3]),
    };
    assert!(matches!(
        build_change(&ANA, &bad, 1, &[]),
        Err(ConversationError::BadAttachment(_))
    ));
    for value in [
        automerge::ScalarValue::Bytes(vec![1, 2, 3]),
        automerge::ScalarValue::Str("ref".into()),
    ] {
        let mut d = automerge::AutoCommit::new();
        d.set_actor(fresh_actor(&ANA).unwrap());
        let obj = d
            .put_object(
                ROOT,
                message_key(&MessageId::for_author(&ANA)),
                ObjType::Map,
            )
            .unwrap();
        d.put(&obj, "s", 1u64).unwrap();
        d.put(&obj, "a", value).unwrap();
        let bytes = d.get_last_local_change().unwrap().bytes().into_owned();
        assert!(check_change(&ANA, &bytes).is_err());
    }
    // Only the author may attach to a message.
    let small = reference(0, 5);
    let mut d = automerge::AutoCommit::new();
    d.apply_changes([Change::from_bytes(p.bytes.clone()).unwrap()])
        .unwrap();
    d.set_actor(fresh_actor(&BO).unwrap());
    let obj = message_obj(&d, &message_key(&plain)).unwrap();
    d.put(&obj, "a", automerge::ScalarValue::Bytes(small.encode()))
        .unwrap();
    let bytes = d.get_last_local_change().unwrap().bytes().into_owned();
    assert!(matches!(
        check_change(&BO, &bytes),
        Err(ConversationError::BadKey(_))
    ));
}

/// Found by the 10-minute `conversation_change` fuzz run: a "saved
/// document" holding an Automerge bundle chunk whose delta column ends
/// early made Automerge's parser panic. A damaged database row is now a
/// typed error.
#[test]
fn d2_a_corrupt_saved_conversation_is_an_error_not_a_panic() {
    let crash = hex::decode(
        "856f4a834a03008303200001000001231203004700000000000000231200787878787878787878787878787878787878787800000209856f856f4a830006000000000000000e00",
    )
    .unwrap();
    assert!(matches!(
        ConversationDoc::load(&crash),
        Err(ConversationError::Automerge(_))
    ));
    // A real save still loads, and a save cut short is refused, not a panic.
    let mut doc = ConversationDoc::new();
    let saved = doc.save();
    assert!(ConversationDoc::load(&saved).is_ok());
    for cut in 0..saved.len() {
        let _ = ConversationDoc::load(&saved[..cut]);
    }
}
