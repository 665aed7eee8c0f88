//! The panic wipe as the apps offer it: what they ask before erasing (the
//! erasing itself is `pollen_node::node::wipe_data_dir`).

/// Asked once, before a wipe: what goes, what is lost, what happens after.
pub const WARNING: &str = "Erase your identity, contacts, messages and everything carried for others from this phone, for good? Messages not yet delivered are lost. Pollen starts again as new.";
