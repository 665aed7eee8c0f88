//! Encounter summaries (session version 5): what a phone tells a neighbour,
//! inside the encrypted session, about whom it meets, in a form that rotates
//! daily and that only a holder of the matching routing tag can read.
//!
//! - A phone's **met keys** are [`summary_key`]`(tag, day)` of its own direct
//!   routing tags for the next [`MET_DAYS`] expiry days: a neighbour records
//!   them as "met today" without learning the tags.
//! - Its **bands** are Bloom filters of the keys it met or heard of, one per
//!   predictability level. A carrier holding an envelope for tag `t` tests
//!   `summary_key(t, day)` and reads the highest band that contains it.
//!
//! Keys change every day and are neither a tag nor part of a card, so nothing
//! a carrier receives links two days (`docs/PROTOCOL.md`, *Encounter
//! summaries*; `docs/THREAT_MODEL.md`).

use crate::codec::{DecodeError, Reader, Writer, capped};

/// Expiry days a phone lists its met keys for: envelopes written today with
/// the default week-long TTL expire within these (plus a day of skew).
pub const MET_DAYS: u64 = 9;
/// Most met keys in one summary.
pub const MAX_MET: usize = 16;
/// Most bands in one summary.
pub const MAX_BANDS: usize = 4;
/// Largest Bloom filter of one band, bytes.
pub const MAX_BAND_BYTES: usize = 4096;
/// Bloom filter bits per key the builder allots (four probes: about 0.7 %
/// false positives).
pub const BITS_PER_KEY: usize = 12;
/// Probes per key.
const PROBES: usize = 4;
/// Seconds in the day that keys rotate with.
pub const DAY_S: u64 = 86_400;

const SUMMARY_CONTEXT: &str = "pollen 2026-12 encounter summary key v1";

/// A summary key: 8 bytes, one tag on one day.
pub type SummaryKey = [u8; 8];

/// The summary key of routing tag `tag` on day `day` (unix seconds / 86,400).
pub fn summary_key(tag: &[u8; 8], day: u32) -> SummaryKey {
    let mut material = [0u8; 16];
    material[..8].copy_from_slice(tag);
    material[8..].copy_from_slice(&u64::from(day).to_le_bytes());
    let full = blake3::derive_key(SUMMARY_CONTEXT, &material);
    let mut key = [0u8; 8];
    key.copy_from_slice(&full[..8]);
    key
}

/// One predictability level and the keys at or above it (and below the
/// next band up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    /// The level, in 1/255 (at least 1).
    pub level: u8,
    /// A Bloom filter of summary keys, [`PROBES`] probes per key.
    pub bits: Vec<u8>,
}

impl Band {
    fn probes(key: &SummaryKey, bits: usize) -> [usize; PROBES] {
        // A summary key is already a uniform hash: its four u16 halves are
        // the probes (`docs/PROTOCOL.md`).
        std::array::from_fn(|i| {
            usize::from(u16::from_le_bytes([key[2 * i], key[2 * i + 1]])) % bits
        })
    }

    fn insert(&mut self, key: &SummaryKey) {
        let n = self.bits.len() * 8;
        for p in Band::probes(key, n) {
            self.bits[p / 8] |= 1 << (p % 8);
        }
    }

    /// Whether the filter may hold `key`.
    pub fn contains(&self, key: &SummaryKey) -> bool {
        let n = self.bits.len() * 8;
        n > 0
            && Band::probes(key, n)
                .iter()
                .all(|&p| self.bits[p / 8] & (1 << (p % 8)) != 0)
    }
}

/// What one side tells the other in its Hello (version 5 and later).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncounterSummary {
    /// The sender's day (unix seconds / 86,400) its keys are for.
    pub day: u32,
    /// The sender's own met keys for that day.
    pub met: Vec<SummaryKey>,
    /// Bands, highest level first.
    pub bands: Vec<Band>,
}

impl EncounterSummary {
    /// A summary of `entries` (key, level in 1/255) for `day`, each key in
    /// the band of the highest of `levels` (descending) it reaches; entries
    /// below the lowest level are left out. At most `max_keys` keys, the
    /// strongest first, so the bands fit [`MAX_BAND_BYTES`].
    pub fn build(
        day: u32,
        met: Vec<SummaryKey>,
        entries: &[(SummaryKey, u8)],
        levels: &[u8],
    ) -> EncounterSummary {
        let mut sorted: Vec<(SummaryKey, u8)> = entries.to_vec();
        sorted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        sorted.truncate(MAX_BAND_BYTES * 8 / BITS_PER_KEY);
        let levels = &levels[..levels.len().min(MAX_BANDS)];
        let mut grouped: Vec<Vec<&SummaryKey>> = vec![Vec::new(); levels.len()];
        for (k, p) in &sorted {
            if let Some(i) = levels.iter().position(|l| p >= l && *l > 0) {
                grouped[i].push(k);
            }
        }
        let mut bands = Vec::new();
        for (&level, keys) in levels.iter().zip(grouped) {
            if keys.is_empty() {
                continue;
            }
            let bytes = (keys.len() * BITS_PER_KEY)
                .div_ceil(8)
                .clamp(8, MAX_BAND_BYTES);
            let mut band = Band {
                level,
                bits: vec![0; bytes],
            };
            for k in keys {
                band.insert(k);
            }
            bands.push(band);
        }
        let mut met = met;
        met.truncate(MAX_MET);
        EncounterSummary { day, met, bands }
    }

    /// The sender's predictability (0..=1) for summary key `key`: the level of
    /// the highest band that may hold it.
    pub fn level_of(&self, key: &SummaryKey) -> f32 {
        self.bands
            .iter()
            .filter(|b| b.contains(key))
            .map(|b| f32::from(b.level) / 255.0)
            .fold(0.0, f32::max)
    }

    /// The sender's predictability (0..=1) of meeting the owner of routing
    /// tag `tag`.
    pub fn predict(&self, tag: &[u8; 8]) -> f32 {
        self.level_of(&summary_key(tag, self.day))
    }

    /// Bytes the summary adds to a Hello.
    pub fn wire_len(&self) -> usize {
        let met = self.met.len().min(MAX_MET) * 8;
        let bands: usize = self
            .bands
            .iter()
            .take(MAX_BANDS)
            .map(|b| 3 + b.bits.len())
            .sum();
        4 + 1 + met + 1 + bands
    }

    /// Appends the summary to a message.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u32(self.day).u8(self.met.len().min(MAX_MET) as u8);
        for k in self.met.iter().take(MAX_MET) {
            w.bytes(k);
        }
        w.u8(self.bands.len().min(MAX_BANDS) as u8);
        for b in self.bands.iter().take(MAX_BANDS) {
            w.u8(b.level).u16(b.bits.len() as u16).bytes(&b.bits);
        }
    }

    /// Reads an untrusted summary.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<EncounterSummary, DecodeError> {
        let day = r.u32("summary day")?;
        let n = capped(r.u8("met count")? as usize, MAX_MET, "met keys")?;
        let mut met = Vec::with_capacity(n);
        for _ in 0..n {
            met.push(r.array("met key")?);
        }
        let bands_n = capped(r.u8("band count")? as usize, MAX_BANDS, "bands")?;
        let mut bands = Vec::with_capacity(bands_n);
        for _ in 0..bands_n {
            let level = r.u8("band level")?;
            if level == 0 {
                return Err(DecodeError::Invalid {
                    what: "band level",
                    value: 0,
                });
            }
            let len = capped(r.u16("band length")? as usize, MAX_BAND_BYTES, "band")?;
            bands.push(Band {
                level,
                bits: r.bytes(len, "band bits")?.to_vec(),
            });
        }
        Ok(EncounterSummary { day, met, bands })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LEVELS: [u8; 4] = [191, 128, 64, 26];

    fn key(i: u32) -> SummaryKey {
        summary_key(&u64::from(i).to_le_bytes(), 20_454)
    }

    #[test]
    fn keys_rotate_daily_and_hide_the_tag() {
        let tag = [7u8; 8];
        assert_ne!(summary_key(&tag, 1), summary_key(&tag, 2));
        assert_ne!(summary_key(&tag, 1), tag);
    }

    #[test]
    fn a_key_reads_back_its_band_and_strangers_mostly_read_nothing() {
        let entries: Vec<(SummaryKey, u8)> = (0..400).map(|i| (key(i), (i % 255) as u8)).collect();
        let s = EncounterSummary::build(20_454, vec![key(9_999)], &entries, &LEVELS);
        for &(k, p) in &entries {
            let level = s.level_of(&k);
            let expect = LEVELS
                .iter()
                .find(|&&l| p >= l)
                .map_or(0.0, |&l| f32::from(l) / 255.0);
            // A false positive can only raise a key into a higher band.
            assert!(level >= expect, "{p}: {level} < {expect}");
        }
        let false_hits = (10_000..20_000)
            .filter(|&i| s.level_of(&key(i)) > 0.0)
            .count();
        assert!(false_hits < 600, "{false_hits} of 10,000 strangers matched");
        assert_eq!(s.met, vec![key(9_999)]);
    }

    #[test]
    fn matches_the_documented_vectors() {
        let value =
            |name: &str| crate::doc_vectors::documented_value("### Encounter summaries", name);
        assert_eq!(
            hex::encode(summary_key(&[7; 8], 20_454)),
            value("summary_key(tag 07x8, day 20454)")
        );
        let summary = EncounterSummary::build(
            20_454,
            vec![[0xaa; 8]],
            &[([0x11; 8], 200), ([0x22; 8], 30)],
            &[191, 128, 64, 26],
        );
        let cases = [
            (
                "hello(window 4096, port 0, no tags, summary of day 20454: met aax8; 11x8 at 200, 22x8 at 30)",
                Some(summary),
            ),
            (
                "hello(window 4096, port 0, no tags, empty summary of day 20454)",
                Some(EncounterSummary {
                    day: 20_454,
                    ..Default::default()
                }),
            ),
        ];
        for (name, encounters) in cases {
            let m = crate::sync::message::Message::Hello {
                window: 4096,
                port: 0,
                direct: vec![],
                shared: vec![],
                encounters,
                short: false,
                days: None,
            };
            assert_eq!(hex::encode(m.encode()), value(name));
            assert_eq!(
                crate::sync::message::Message::decode(&hex::decode(value(name)).unwrap()),
                Ok(m)
            );
        }
    }

    #[test]
    fn lying_sizes_are_refused() {
        let decode = |bytes: &[u8]| EncounterSummary::decode(&mut Reader::new(bytes));
        assert!(matches!(
            decode(&[0, 0, 0, 0, 17]),
            Err(DecodeError::TooLong { .. })
        ));
        assert!(matches!(
            decode(&[0, 0, 0, 0, 0, 5]),
            Err(DecodeError::TooLong { .. })
        ));
        assert!(matches!(
            decode(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 0]),
            Err(DecodeError::Invalid { .. })
        ));
        assert!(matches!(
            decode(&[0, 0, 0, 0, 0, 1, 9, 0xff, 0xff]),
            Err(DecodeError::TooLong { .. })
        ));
        assert!(matches!(
            decode(&[0, 0, 0, 0, 0, 1, 9, 2, 0, 1]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    proptest! {
        /// Encoding then decoding gives the summary back, and every key put
        /// in is found at its level or above.
        #[test]
        fn summaries_round_trip(
            day in any::<u32>(),
            entries in proptest::collection::vec((any::<[u8; 8]>(), 1u8..), 0..300),
            met in proptest::collection::vec(any::<[u8; 8]>(), 0..20),
        ) {
            let s = EncounterSummary::build(day, met, &entries, &LEVELS);
            let mut w = Writer::new();
            s.encode(&mut w);
            let bytes = w.finish();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(bytes.len(), s.wire_len());
            prop_assert_eq!(EncounterSummary::decode(&mut r).unwrap(), s.clone());
            prop_assert!(r.finish().is_ok());
            for (k, p) in entries {
                if p >= LEVELS[3] {
                    prop_assert!(s.level_of(&k) > 0.0);
                }
            }
        }
    }
}
