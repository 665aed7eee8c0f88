//! Sneakernet from the Settings screen: the line that tells the user what a
//! bundle export or import did, in words.

use pollen_node::node::{ExportReport, ImportReport};

/// "1 message and 2 receipts written (3.1 kB) for someone to carry".
pub fn exported_line(r: &ExportReport) -> String {
    if r.envelopes == 0 && r.proofs == 0 {
        return "Nothing to hand over: the bundle is empty".to_owned();
    }
    format!(
        "{} and {} written ({}) for someone to carry",
        count(r.envelopes, "message", "messages"),
        count(r.proofs, "receipt", "receipts"),
        size(r.bytes)
    )
}

/// "2 new for you, 3 to carry on, 1 already here, 1 of your messages
/// delivered" (what is zero is left out), with what was refused and
/// whether the file ended early.
pub fn imported_line(r: &ImportReport) -> String {
    let mut parts = Vec::new();
    if r.opened > 0 {
        parts.push(format!("{} new for you", r.opened));
    }
    if r.carried > 0 {
        parts.push(format!("{} to carry on", r.carried));
    }
    let already = r.duplicates + r.already_delivered;
    if already > 0 {
        parts.push(format!("{already} already here"));
    }
    if r.delivered > 0 {
        parts.push(format!(
            "{} delivered",
            count(r.delivered, "of your messages", "of your messages")
        ));
    }
    let refused = r.rejected_total();
    if refused > 0 {
        parts.push(format!("{refused} refused (not valid)"));
    }
    let mut line = if parts.is_empty() {
        "Nothing new in this bundle".to_owned()
    } else {
        parts.join(", ")
    };
    if !r.complete {
        line += &format!(
            "; the file ends early ({}): what came before is kept",
            r.error.as_deref().unwrap_or("no end marker")
        );
    }
    line
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_says_what_it_wrote_and_an_empty_one_says_so() {
        let r = ExportReport {
            envelopes: 1,
            proofs: 2,
            bytes: 3_140,
        };
        assert_eq!(
            exported_line(&r),
            "1 message and 2 receipts written (3.1 kB) for someone to carry"
        );
        assert_eq!(
            exported_line(&ExportReport::default()),
            "Nothing to hand over: the bundle is empty"
        );
    }

    #[test]
    fn an_import_says_what_is_new_carried_refused_and_cut_short() {
        let mut r = ImportReport {
            opened: 2,
            carried: 3,
            duplicates: 1,
            delivered: 1,
            complete: true,
            ..ImportReport::default()
        };
        assert_eq!(
            imported_line(&r),
            "2 new for you, 3 to carry on, 1 already here, 1 of your messages delivered"
        );
        r.rejected.insert("bad signature".into(), 2);
        r.complete = false;
        r.error = Some("truncated record".into());
        assert_eq!(
            imported_line(&r),
            "2 new for you, 3 to carry on, 1 already here, 1 of your messages delivered, 2 refused (not valid); the file ends early (truncated record): what came before is kept"
        );
        let nothing = ImportReport {
            complete: true,
            ..ImportReport::default()
        };
        assert_eq!(imported_line(&nothing), "Nothing new in this bundle");
    }
}
