//! Where the core's randomness comes from: the operating system's CSPRNG,
//! except on a thread where the simulator installed a seeded stream, so a
//! simulated run (keys, envelopes, handshakes, actor ids) repeats bit for
//! bit. Nothing but the simulator installs one; a seeded stream is not secret.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::cell::RefCell;

thread_local! {
    static SEEDED: RefCell<Option<ChaCha20Rng>> = const { RefCell::new(None) };
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    let seeded = SEEDED.with(|s| {
        s.borrow_mut().as_mut().map(|rng| {
            rng.fill_bytes(buf);
        })
    });
    match seeded {
        Some(()) => Ok(()),
        None => getrandom::fill(buf),
    }
}

/// Makes this thread's randomness a seeded stream until the guard drops:
/// for the simulator only (everything it derives is predictable).
pub fn seed_thread_for_simulation(seed: u64) -> SeededThread {
    SEEDED.with(|s| *s.borrow_mut() = Some(ChaCha20Rng::seed_from_u64(seed)));
    SeededThread {
        _not_send: std::marker::PhantomData,
    }
}

/// Restores OS randomness on this thread when dropped.
#[derive(Debug)]
pub struct SeededThread {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for SeededThread {
    fn drop(&mut self) {
        SEEDED.with(|s| *s.borrow_mut() = None);
    }
}

/// Noise's randomness from [`fill`], so handshakes follow the same rule.
pub(crate) struct NoiseRandom;

impl snow::types::Random for NoiseRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        fill(dest).map_err(|_| snow::Error::Rng)
    }
}

/// Snow's default primitives with [`NoiseRandom`] as the RNG.
pub(crate) struct NoiseResolver(snow::resolvers::DefaultResolver);

impl NoiseResolver {
    pub(crate) fn boxed() -> snow::resolvers::BoxedCryptoResolver {
        Box::new(NoiseResolver(snow::resolvers::DefaultResolver))
    }
}

impl snow::resolvers::CryptoResolver for NoiseResolver {
    fn resolve_rng(&self) -> Option<Box<dyn snow::types::Random>> {
        Some(Box::new(NoiseRandom))
    }

    fn resolve_dh(&self, choice: &snow::params::DHChoice) -> Option<Box<dyn snow::types::Dh>> {
        self.0.resolve_dh(choice)
    }

    fn resolve_hash(
        &self,
        choice: &snow::params::HashChoice,
    ) -> Option<Box<dyn snow::types::Hash>> {
        self.0.resolve_hash(choice)
    }

    fn resolve_cipher(
        &self,
        choice: &snow::params::CipherChoice,
    ) -> Option<Box<dyn snow::types::Cipher>> {
        self.0.resolve_cipher(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_threads_repeat_and_unseeded_ones_do_not() {
        let draw = || {
            let mut b = [0u8; 32];
            fill(&mut b).unwrap();
            b
        };
        let first = {
            let _g = seed_thread_for_simulation(7);
            (draw(), draw())
        };
        let again = {
            let _g = seed_thread_for_simulation(7);
            (draw(), draw())
        };
        assert_eq!(first, again);
        assert_ne!(first.0, first.1);
        // The guard is gone: back to the OS.
        assert_ne!(draw(), first.0);
        assert_ne!(draw(), draw());
    }
}
