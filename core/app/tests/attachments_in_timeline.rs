//! Attachments as the chat draws them, over real nodes and real sync
//! sessions: a small file from a contact comes on its own and turns whole,
//! a large one waits for a tap and then comes, a stranger's never comes on
//! its own, and a whole one is written once into the app's directory.

use pollen_app::attachment::{AttachmentKind, AttachmentState, AttachmentView, file_in, file_name};
use pollen_app::timeline::{TimelineItem, TimelineQuery, timeline};
use pollen_node::admission::AutoFetch;
use pollen_node::node::{ConversationId, Node};
use pollen_proto::chunk::Preview;
use pollen_proto::sync::pump::{LinkModel, pump};
use pollen_proto::sync::{Session, SessionConfig};

mod common;

use common::{T0, TestClock, carry_all, node, people};

/// One sync session between the two over a TCP-sized link.
fn meet(a: &mut Node, b: &mut Node) {
    let mut sa = Session::new(SessionConfig::tcp(true, "tcp:a").routed(), T0 * 1000);
    let mut sb = Session::new(SessionConfig::tcp(false, "tcp:b").routed(), T0 * 1000);
    let report = pump(&mut sa, a, &mut sb, b, LinkModel::default(), T0 * 1000);
    assert!(!report.cut, "the session ended cleanly");
}

/// The attachments of a chat's timeline, oldest first.
fn attachments(n: &Node, chat: &ConversationId, clock: &TestClock) -> Vec<AttachmentView> {
    let query = TimelineQuery {
        limit: 50,
        before: None,
        now_secs: clock.now(),
        utc_offset_secs: 0,
    };
    timeline(n, chat, &query)
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            TimelineItem::Message(m) => m.attachment.map(|a| *a),
            TimelineItem::Day { .. } => None,
        })
        .collect()
}

fn file(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(seed) % 251) as u8)
        .collect()
}

fn preview(name: &str, mime: &str) -> Preview {
    Preview {
        name: name.into(),
        mime: mime.into(),
        ..Preview::default()
    }
}

#[test]
fn a_small_file_comes_on_its_own_a_large_one_after_a_tap_and_both_open_whole() {
    let (clock, mut n) = people(&["Ana", "Chen"]);
    let (ana, chen) = n.split_at_mut(1);
    let (ana, chen) = (&mut ana[0], &mut chen[0]);
    chen.set_auto_fetch(AutoFetch {
        slow_link: 100_000,
        fast_link: 200_000,
    })
    .unwrap();
    let photo = file(150_000, 7);
    let video = file(700_000, 13);
    ana.send_file("Chen", &photo, preview("map.jpg", "image/jpeg"), "the map")
        .unwrap();
    ana.send_file("Chen", &video, preview("walk.mp4", "video/mp4"), "")
        .unwrap();
    // A direct chat has the same id on both sides.
    let chat = chat_of(ana, "Chen");

    // Ana's own are whole at once.
    let own = attachments(ana, &chat, &clock);
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|a| a.state == AttachmentState::Whole));

    // The messages alone first (a bundle, or a link that broke): nothing
    // of the files yet.
    carry_all(ana, chen);
    let got = attachments(chen, &chat, &clock);
    assert_eq!(got.len(), 2, "both messages carry their file");
    // Sent in the same second: found by name.
    let named = |n: &Node, name: &str| {
        attachments(n, &chat, &clock)
            .into_iter()
            .find(|a| a.reference.preview.name == name)
            .expect("attachment")
    };
    let (map, walk) = (&named(chen, "map.jpg"), &named(chen, "walk.mp4"));
    assert_eq!(map.kind, AttachmentKind::Image);
    // Over the Bluetooth limit, under the Wi-Fi one: it comes on its own over Wi-Fi.
    assert_eq!(map.state, AttachmentState::WifiOnly, "{}", map.label());
    assert_eq!(map.label(), "150 KB · comes over Wi-Fi · tap to fetch now");
    assert_eq!(walk.kind, AttachmentKind::Video);
    assert_eq!(walk.state, AttachmentState::Ask);
    assert_eq!(walk.percent(), 0);
    assert_eq!(walk.label(), "700 KB · tap to download");

    // Not here: nothing is written.
    let dir = tempfile::tempdir().unwrap();
    assert!(file_in(chen, &walk.reference, dir.path()).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing half-written"
    );

    // The tap: it is asked for over every link, then comes.
    chen.fetch(&walk.reference).unwrap();
    let asked = &named(chen, "walk.mp4");
    assert_eq!(asked.state, AttachmentState::Coming);
    assert_eq!(asked.label(), "0 % of 700 KB");
    meet(chen, ana);
    assert_eq!(named(chen, "map.jpg").label(), "map.jpg · 150 KB");
    let walk = &named(chen, "walk.mp4");
    assert_eq!(walk.state, AttachmentState::Whole, "{}", walk.label());
    assert_eq!(walk.percent(), 100);

    // One line for it where there is one line: a message without words says
    // what the file is, a preview puts it before the words.
    let query = TimelineQuery {
        limit: 50,
        before: None,
        now_secs: clock.now(),
        utc_offset_secs: 0,
    };
    let shown: Vec<String> = timeline(chen, &chat, &query)
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            TimelineItem::Message(m) => Some(m.shown_text()),
            TimelineItem::Day { .. } => None,
        })
        .collect();
    assert!(shown.contains(&"Video".to_owned()), "{shown:?}");
    assert!(shown.contains(&"the map".to_owned()), "{shown:?}");
    let previews: Vec<String> = chen
        .store()
        .messages(Some(&chat), &chen.public().signing, 10, None)
        .unwrap()
        .iter()
        .map(pollen_app::chats::preview)
        .collect();
    assert!(previews.contains(&"Video".to_owned()), "{previews:?}");
    assert!(
        previews.contains(&"Photo · the map".to_owned()),
        "{previews:?}"
    );

    // Written once, under its name, with the sender's bytes.
    let path = file_in(chen, &walk.reference, dir.path()).unwrap();
    assert_eq!(path.parent(), Some(dir.path()), "no path from the sender");
    assert!(file_name(&walk.reference).ends_with("-walk.mp4"));
    assert_eq!(std::fs::read(&path).unwrap(), video);
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(file_in(chen, &walk.reference, dir.path()).unwrap(), path);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written
    );
    let map_path = file_in(chen, &map.reference, dir.path()).unwrap();
    assert_eq!(std::fs::read(map_path).unwrap(), photo);
}

#[test]
fn a_strangers_file_is_not_shown_until_asked_for_even_when_carried_here_whole() {
    let clock = TestClock::at(T0);
    let mut ana = node("Ana", &clock);
    let mut chen = node("Chen", &clock);
    // Ana knows Chen; Chen does not know Ana.
    ana.add_contact(&chen.card(), None).unwrap();
    ana.send_file("Chen", &file(5_000, 3), preview("hi.txt", "text/plain"), "")
        .unwrap();
    meet(&mut ana, &mut chen);
    let chat = chen.conversations(10).unwrap()[0].id;
    let got = attachments(&chen, &chat, &clock);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].state, AttachmentState::Ask, "{}", got[0].label());
    assert_eq!(got[0].kind, AttachmentKind::File);
    // The small file's chunks came along as carried ones: a tap shows it at once.
    assert_eq!(got[0].label(), "5 KB · tap to open");
    chen.fetch(&got[0].reference).unwrap();
    assert_eq!(
        attachments(&chen, &chat, &clock)[0].state,
        AttachmentState::Whole
    );
}

fn chat_of(n: &Node, name: &str) -> ConversationId {
    n.conversations(10)
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .expect("chat")
        .id
}
