//! Counter-based random streams: the numbers a particle sees depend on (seed, particle, step)
//! only — never on the thread that happens to process it.
//!
//! * key: the 32-byte ChaCha8 key is four consecutive outputs of splitmix64 started at `seed`
//!   (z ← z + 0x9E3779B97F4A7C15; out = mix(z), little-endian);
//! * stream (ChaCha nonce): the particle index i for particle draws, [`BATCH_STREAM`] = 2⁶³ for
//!   minibatches;
//! * position: slot s starts at word s·2³² of the stream — slot 0 is the initial sample, slot
//!   k + 1 the noise (or minibatch) of step k. 2³² words per slot is far more than any draw uses
//!   (a normal deviate takes about two words), so slots never overlap; steps < 2³⁶ − 1.

use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;

/// The stream of the minibatch draws (particle indices are < 2⁶³).
pub const BATCH_STREAM: u64 = 1 << 63;

/// Words of stream reserved for each slot: 2³².
pub const WORDS_PER_SLOT: u128 = 1 << 32;

/// splitmix64: z ← z + 0x9E3779B97F4A7C15; x = z; x = (x ⊕ x≫30)·0xBF58476D1CE4E5B9;
/// x = (x ⊕ x≫27)·0x94D049BB133111EB; return x ⊕ x≫31.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut x = *state;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The ChaCha8 key of a seed: four splitmix64 outputs, little-endian.
pub fn key(seed: u64) -> [u8; 32] {
    let mut s = seed;
    let mut k = [0u8; 32];
    for c in k.chunks_exact_mut(8) {
        c.copy_from_slice(&splitmix64(&mut s).to_le_bytes());
    }
    k
}

/// The generator of (key, stream, slot): ChaCha8 with nonce `stream`, positioned at word
/// `slot`·2³².
#[inline]
pub fn stream_rng(key: &[u8; 32], stream: u64, slot: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::from_seed(*key);
    r.set_stream(stream);
    r.set_word_pos(u128::from(slot) * WORDS_PER_SLOT);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_and_slots_differ_and_repeat() {
        let k = key(42);
        let a = stream_rng(&k, 3, 5).next_u64();
        assert_eq!(a, stream_rng(&k, 3, 5).next_u64());
        assert_ne!(a, stream_rng(&k, 4, 5).next_u64());
        assert_ne!(a, stream_rng(&k, 3, 6).next_u64());
        assert_ne!(a, stream_rng(&key(43), 3, 5).next_u64());
    }
}
