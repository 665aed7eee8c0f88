//! The one JSON line every `pollen bench … --json` prints: which benchmark,
//! the commit it was built from, then its figures (`scripts/bench.sh`
//! checks these lines).

use crate::CliError;
use serde::Serialize;
use serde_json::{Map, Value};

/// The commit this binary was built from (see `cli/build.rs`).
pub(crate) const COMMIT: &str = env!("POLLEN_COMMIT");

/// `figures` (an object) as one line, after `"bench"` and `"commit"`.
pub(crate) fn line(bench: &str, figures: impl Serialize) -> Result<String, CliError> {
    let err = |e: serde_json::Error| CliError::Other(e.to_string());
    let mut out = Map::new();
    out.insert("bench".into(), Value::from(bench));
    out.insert("commit".into(), Value::from(COMMIT));
    match serde_json::to_value(figures).map_err(err)? {
        Value::Object(map) => out.extend(map),
        other => {
            out.insert("figures".into(), other);
        }
    }
    serde_json::to_string(&Value::Object(out)).map_err(err)
}

/// Prints [`line`].
pub(crate) fn emit(bench: &str, figures: impl Serialize) -> Result<(), CliError> {
    println!("{}", line(bench, figures)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_bench_and_commit_and_keeps_the_figures() {
        let l = line("envelopes", serde_json::json!({"ingest_per_s": 5.0})).unwrap();
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["bench"], "envelopes");
        assert_eq!(v["commit"], COMMIT);
        assert!(!COMMIT.is_empty());
        assert_eq!(v["ingest_per_s"], 5.0);
        assert!(!l.contains('\n'));
    }
}
