//! Test vectors published in `docs/PROTOCOL.md`, read back by the tests that
//! check the code still produces them.

/// The protocol document, as compiled into the tests.
const DOC: &str = include_str!("../../../docs/PROTOCOL.md");

/// The `name = value` lines of the first ```text block after `heading`.
pub(crate) fn documented(heading: &str) -> Vec<(String, String)> {
    let section = DOC.split(heading).nth(1).unwrap_or_default();
    let block = section.split("```text\n").nth(1).unwrap_or_default();
    let block = block.split("```").next().unwrap_or_default();
    block
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The documented value of `name` under `heading`; panics (failing the test)
/// if the document does not give it.
pub(crate) fn documented_value(heading: &str, name: &str) -> String {
    documented(heading)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} is not documented under {heading}"))
}
