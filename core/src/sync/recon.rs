//! Range-based set reconciliation over envelope ids.
