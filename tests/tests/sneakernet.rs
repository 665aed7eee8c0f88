//! Three phones, one USB stick: end-to-end through real `pollen` processes.

use pollen_tests::{Phone, contains};

/// Ana, Bo and Chen, each with the other two as contacts.
fn friends(root: &std::path::Path) -> [Phone; 3] {
    let [a, b, c] = ["Ana", "Bo", "Chen"].map(|n| Phone::new(root, n));
    for (x, y) in [(&a, &b), (&a, &c), (&b, &a), (&b, &c), (&c, &a), (&c, &b)] {
        x.add(y);
    }
    [a, b, c]
}

#[test]
fn a_message_travels_a_to_b_to_c_and_the_proof_comes_back() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    // A long name, so finding it by chance in B's ciphertext is impossible.
    let a = Phone::new(root.path(), "Anastasia");
    let b = Phone::new(root.path(), "Bo");
    let c = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    c.ok(&["receipts", "immediate"]);
    a.add(&c);
    c.add(&a);
    let secret = "the spare key is under the blue pot 7f3a";
    a.ok(&["send", "--to", "Chen", secret]);
    assert_eq!(a.json(&["status"])["own_undelivered"], 1);

    let at_b = a.hand_to(&b, &stick);
    assert_eq!(at_b["carried"], 1, "{at_b}");
    assert_eq!(at_b["opened"], 0);
    let at_c = b.hand_to(&c, &stick);
    assert_eq!(at_c["opened"], 1, "{at_c}");

    let inbox = c.inbox();
    let m = inbox
        .iter()
        .find(|m| m["text"] == secret)
        .expect("C reads A's message");
    assert_eq!(m["from"], "Anastasia");
    assert_eq!(m["conversation"], "Anastasia");
    assert_eq!(m["status"], "received");
    for key in ["id", "conversation", "from", "text", "sent_at", "status"] {
        assert!(!m[key].is_null(), "inbox JSON lacks {key}");
    }

    // The carrier can neither read it nor find it in its own files.
    assert!(b.texts().is_empty());
    assert!(!contains(&b.database_bytes(), secret));
    assert!(
        !contains(&b.database_bytes(), "Anastasia"),
        "sealed sender: B must not learn the author"
    );
    assert_eq!(b.json(&["status"])["carried_for_others"], 1);

    // C's delivery proof rides back through B: B drops its copy, A sees it delivered.
    let back_b = c.hand_to(&b, &stick);
    assert_eq!(back_b["purged"], 1, "{back_b}");
    assert_eq!(b.json(&["status"])["carried_for_others"], 0);
    let back_a = b.hand_to(&a, &stick);
    assert_eq!(back_a["delivered"], 1, "{back_a}");
    let status = a.json(&["status"]);
    assert_eq!(status["own_undelivered"], 0);
    assert_eq!(status["own_delivered"], 1);
    let mine = a.inbox();
    assert_eq!(mine[0]["status"], "delivered");

    // A replay of the delivered envelope does not come back to B.
    let replay = a.hand_to(&b, &stick);
    assert_eq!(replay["carried"], 0, "{replay}");
}

#[test]
fn importing_the_same_bundle_twice_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    let c = Phone::new(root.path(), "Chen");
    // Proofs straight back (by default they wait for their batch: core/node/tests/receipts.rs).
    c.ok(&["receipts", "immediate"]);
    a.add(&c);
    c.add(&a);
    a.ok(&["send", "--to", "Chen", "one"]);
    a.ok(&["send", "--to", "Chen", "two"]);
    a.ok(&["bundle", "export", stick.to_str().unwrap()]);
    let first = c.json(&["bundle", "import", stick.to_str().unwrap()]);
    assert_eq!(first["opened"], 2);
    let before = (c.inbox(), c.json(&["status"]));
    let again = c.json(&["bundle", "import", stick.to_str().unwrap()]);
    assert_eq!(again["opened"], 0);
    assert_eq!(again["already_delivered"], 2, "{again}");
    assert_eq!((c.inbox(), c.json(&["status"])), before);

    let first_b = b.json(&["bundle", "import", stick.to_str().unwrap()]);
    assert_eq!(first_b["carried"], 2);
    let again_b = b.json(&["bundle", "import", stick.to_str().unwrap()]);
    assert_eq!(again_b["duplicates"], 2, "{again_b}");
    assert_eq!(b.json(&["status"])["envelopes_stored"], 2);
}

#[test]
fn a_removed_group_member_cannot_read_what_comes_after() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let [a, b, c] = friends(root.path());
    a.ok(&[
        "group", "create", "crew", "--member", "Bo", "--member", "Chen",
    ]);
    a.ok(&["send", "--group", "crew", "before the split"]);
    a.hand_to(&b, &stick);
    a.hand_to(&c, &stick);
    assert_eq!(b.texts(), ["before the split"]);
    assert_eq!(c.texts(), ["before the split"]);

    a.ok(&["group", "remove", "crew", "--member", "Chen"]);
    a.ok(&["send", "--group", "crew", "after the split: meet at dawn"]);
    a.hand_to(&b, &stick);
    a.hand_to(&c, &stick);
    assert_eq!(
        b.texts(),
        ["before the split", "after the split: meet at dawn"]
    );
    assert_eq!(
        c.texts(),
        ["before the split"],
        "removed member must not read new messages"
    );
    assert!(!contains(&c.database_bytes(), "meet at dawn"));

    // The remaining member writes under the new key too; the removed one still cannot read.
    b.ok(&["send", "--group", "crew", "from Bo, new epoch"]);
    b.hand_to(&a, &stick);
    b.hand_to(&c, &stick);
    assert!(a.texts().contains(&"from Bo, new epoch".to_owned()));
    assert_eq!(c.texts(), ["before the split"]);
    // And the removed member is told why it cannot write.
    let err = c.fails(&["send", "--group", "crew", "hello?"]);
    assert!(err.contains("no longer a member"), "{err}");
}

#[test]
fn an_added_member_reads_from_then_on_and_everyone_reads_them() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let [a, b, c] = friends(root.path());
    a.ok(&["group", "create", "crew", "--member", "Bo"]);
    a.ok(&["send", "--group", "crew", "before Chen came"]);
    a.hand_to(&b, &stick);

    // Only the admin adds, and nobody twice.
    let err = b.fails(&["group", "add", "crew", "--member", "Chen"]);
    assert!(err.contains("only the admin"), "{err}");
    let err = a.fails(&["group", "add", "crew", "--member", "Bo"]);
    assert!(err.contains("already a member"), "{err}");

    a.ok(&["group", "add", "crew", "--member", "Chen"]);
    a.ok(&["send", "--group", "crew", "welcome Chen"]);
    a.hand_to(&b, &stick);
    a.hand_to(&c, &stick);
    assert_eq!(
        c.texts(),
        ["welcome Chen"],
        "the new key does not open the old"
    );
    assert_eq!(b.texts(), ["before Chen came", "welcome Chen"]);

    // The new member writes to the group, and the others read it.
    c.ok(&["send", "--group", "crew", "thanks, from Chen"]);
    c.hand_to(&a, &stick);
    c.hand_to(&b, &stick);
    assert!(a.texts().contains(&"thanks, from Chen".to_owned()));
    assert!(b.texts().contains(&"thanks, from Chen".to_owned()));

    // Removed and added again, a member reads again.
    a.ok(&["group", "remove", "crew", "--member", "Chen"]);
    a.ok(&["group", "add", "crew", "--member", "Chen"]);
    a.ok(&["send", "--group", "crew", "back again"]);
    a.hand_to(&c, &stick);
    assert!(
        c.texts().contains(&"back again".to_owned()),
        "{:?}",
        c.texts()
    );
}

#[test]
fn public_channel_reaches_anyone_who_joins_even_later() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    a.ok(&["channel", "join", "Festival-Info"]);
    a.ok(&[
        "send",
        "--channel",
        "festival-info",
        "water point moved to gate 3",
    ]);
    // B carries it before joining, then joins and reads it.
    a.hand_to(&b, &stick);
    assert!(b.texts().is_empty());
    b.ok(&["channel", "join", "festival-info"]);
    assert_eq!(b.texts(), ["water point moved to gate 3"]);
    let convs = b.json(&["conversations"]);
    assert_eq!(convs[0]["kind"], "channel");
    assert_eq!(convs[0]["name"], "#festival-info");
}

#[test]
fn edits_reactions_replies_and_deletions_reach_the_other_side() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let a = Phone::new(root.path(), "Ana");
    let c = Phone::new(root.path(), "Chen");
    a.add(&c);
    c.add(&a);
    let sent = a.json(&["send", "--to", "Chen", "dinner at 7?"]);
    let id = sent["id"].as_str().unwrap().to_owned();
    a.hand_to(&c, &stick);
    c.ok(&["reply", &id[..8], "yes!"]);
    c.ok(&["react", &id, "👍"]);
    c.hand_to(&a, &stick);
    a.ok(&["edit", &id, "dinner at 8?"]);
    let doomed = a.json(&["send", "--to", "Chen", "typo mesage"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.ok(&["delete", &doomed]);
    a.hand_to(&c, &stick);
    let inbox = c.inbox();
    let m = inbox.iter().find(|m| m["id"] == id.as_str()).unwrap();
    assert_eq!(m["text"], "dinner at 8?");
    assert!(m["edited_at"].is_u64());
    assert_eq!(m["reactions"][0]["emoji"], "👍");
    let reply = inbox.iter().find(|m| m["text"] == "yes!").unwrap();
    assert_eq!(reply["reply_to"], id.as_str());
    let gone = inbox.iter().find(|m| m["id"] == doomed.as_str()).unwrap();
    assert_eq!(gone["deleted"], true);
    assert_eq!(gone["text"], "");
    // Only the author may edit.
    let err = c.fails(&["edit", &id, "hijacked"]);
    assert!(err.contains("only the author"), "{err}");
}

#[test]
fn contacts_are_pinned_and_a_changed_key_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let c = Phone::new(root.path(), "Chen");
    let impostor = Phone::new(&root.path().join("evil"), "Chen");
    a.add(&c);
    let err = a.fails(&["contact", "add", &impostor.card()]);
    assert!(err.contains("KEY CHANGED"), "{err}");
    let list = a.json(&["contact", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["fingerprint"], c.json(&["id"])["fingerprint"]);
    assert_eq!(list[0]["key_changes"], 1);
    assert_eq!(list[0]["verified"], false);
    let out = a.ok(&["contact", "verify", "Chen", "--confirm"]);
    let number = out.lines().nth(1).unwrap().trim().to_owned();
    assert_eq!(number.split(' ').count(), 12);
    // Both sides compute the same safety number.
    c.add(&a);
    let theirs = c.ok(&["contact", "verify", "Ana"]);
    assert!(theirs.contains(&number), "{theirs} vs {number}");
    assert_eq!(a.json(&["contact", "list"])[0]["verified"], true);
    // Uppercased cards (QR alphanumeric mode) are accepted.
    let b = Phone::new(root.path(), "Bo");
    b.ok(&["contact", "add", &a.card().to_uppercase()]);
}

#[test]
fn cli_errors_are_one_clear_line_and_init_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let err = a.fails(&["init", "--name", "Again"]);
    assert!(
        err.starts_with("error: an identity already exists"),
        "{err}"
    );
    assert_eq!(a.json(&["id"])["name"], "Ana");
    let err = a.fails(&["send", "--to", "nobody", "hi"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no contact named"), "{err}");
    let err = a.fails(&["contact", "add", "pollen1notacard"]);
    assert!(err.contains("contact card refused"), "{err}");
    let fresh = pollen_tests::Phone {
        dir: root.path().join("nobody"),
        name: "nobody".into(),
    };
    let err = fresh.fails(&["status"]);
    assert!(err.contains("pollen init"), "{err}");
    let out = a.run(&["send", "--help"]);
    assert!(out.status.success());
}

#[test]
fn p7_pollen_wipe_refuses_without_yes_then_erases_everything() {
    let root = tempfile::tempdir().unwrap();
    let a = Phone::new(root.path(), "Ana");
    let b = Phone::new(root.path(), "Bo");
    a.add(&b);
    a.ok(&["send", "--to", "Bo", "meet at the old mill"]);
    let card = a.card();
    let err = a.fails(&["wipe"]);
    assert!(err.contains("without --yes"), "{err}");
    assert!(
        a.dir.join("pollen.db").exists(),
        "nothing erased without --yes"
    );

    let out = a.ok(&["wipe", "--yes"]);
    assert!(out.contains("wiped"), "{out}");
    assert!(!a.dir.exists(), "the data directory is gone");
    let err = a.fails(&["id"]);
    assert!(err.contains("pollen init"), "{err}");
    // A new identity starts clean.
    a.ok(&["init", "--name", "Ana"]);
    assert_ne!(a.card(), card);
    assert!(a.texts().is_empty());
}

#[test]
fn a_blocked_contacts_message_is_dropped_and_writing_to_them_refused() {
    let root = tempfile::tempdir().unwrap();
    let stick = root.path().join("stick.pollen");
    let [a, b, _c] = friends(root.path());
    assert!(a.ok(&["block", "Bo"]).contains("blocked \"Bo\""));
    assert!(a.ok(&["blocked"]).contains("Bo"));
    b.ok(&["send", "--to", "Ana", "let me in"]);
    b.hand_to(&a, &stick);
    assert!(a.texts().is_empty(), "{:?}", a.texts());
    let err = a.fails(&["send", "--to", "Bo", "hello?"]);
    assert!(err.contains("blocked"), "{err}");
    assert!(a.ok(&["unblock", "Bo"]).contains("unblocked"));
    b.ok(&["send", "--to", "Ana", "sorry"]);
    b.hand_to(&a, &stick);
    assert_eq!(a.texts(), ["sorry"]);
}
