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
use std::convert::Infallible;

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

/// The same stream of words as [`stream_rng`]`(key, stream, slot)`, generated one 16-word
/// ChaCha8 block at a time (ChaCha8Rng fills 4 blocks per refill, which is 4× the work when a
/// particle draws only a few numbers per step, as the noise of one step does).
///
/// ChaCha8 (Bernstein's variant with a 64-bit block counter): state = the four constants
/// "expand 32-byte k", the key (8 little-endian words), the counter (words 12–13) and the
/// stream (words 14–15); a block is state + 4 double rounds of it. Word j of the stream is word
/// j mod 16 of block ⌊j/16⌋; slot s starts at block s·2²⁸. `next_u64` = lo | hi ≪ 32 of two
/// consecutive words, `fill_bytes` consumes whole words little-endian, as rand_core's BlockRng.
#[derive(Debug, Clone)]
pub struct Stream {
    state: [u32; 16],
    block: [u32; 16],
    index: usize,
}

impl Stream {
    /// The stream of (key, stream, slot), positioned at its first word.
    #[inline]
    pub fn new(key: &[u8; 32], stream: u64, slot: u64) -> Self {
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
        for (w, c) in state[4..12].iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let counter = (u128::from(slot) * WORDS_PER_SLOT / 16) as u64;
        state[12] = counter as u32;
        state[13] = (counter >> 32) as u32;
        state[14] = stream as u32;
        state[15] = (stream >> 32) as u32;
        Stream {
            state,
            block: [0; 16],
            index: 16,
        }
    }

    /// The block at the current counter into `self.block`, then counter + 1.
    #[inline]
    fn refill(&mut self) {
        #[inline(always)]
        fn qr(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
            x[a] = x[a].wrapping_add(x[b]);
            x[d] = (x[d] ^ x[a]).rotate_left(16);
            x[c] = x[c].wrapping_add(x[d]);
            x[b] = (x[b] ^ x[c]).rotate_left(12);
            x[a] = x[a].wrapping_add(x[b]);
            x[d] = (x[d] ^ x[a]).rotate_left(8);
            x[c] = x[c].wrapping_add(x[d]);
            x[b] = (x[b] ^ x[c]).rotate_left(7);
        }
        let mut x = self.state;
        for _ in 0..4 {
            qr(&mut x, 0, 4, 8, 12);
            qr(&mut x, 1, 5, 9, 13);
            qr(&mut x, 2, 6, 10, 14);
            qr(&mut x, 3, 7, 11, 15);
            qr(&mut x, 0, 5, 10, 15);
            qr(&mut x, 1, 6, 11, 12);
            qr(&mut x, 2, 7, 8, 13);
            qr(&mut x, 3, 4, 9, 14);
        }
        for (o, (w, s)) in self.block.iter_mut().zip(x.iter().zip(&self.state)) {
            *o = w.wrapping_add(*s);
        }
        let c = ((u64::from(self.state[13]) << 32) | u64::from(self.state[12])).wrapping_add(1);
        self.state[12] = c as u32;
        self.state[13] = (c >> 32) as u32;
        self.index = 0;
    }

    #[inline]
    fn word(&mut self) -> u32 {
        if self.index >= 16 {
            self.refill();
        }
        let w = self.block[self.index];
        self.index += 1;
        w
    }
}

/// Streams per batch of [`Stream::batch`].
pub const BATCH: usize = 8;

/// Eight u32 lanes (one 256-bit vector).
type Lanes = [u32; BATCH];

#[inline(always)]
fn lanes_add(a: Lanes, b: Lanes) -> Lanes {
    std::array::from_fn(|l| a[l].wrapping_add(b[l]))
}

#[inline(always)]
fn lanes_xor_rotl<const R: u32>(a: Lanes, b: Lanes) -> Lanes {
    std::array::from_fn(|l| (a[l] ^ b[l]).rotate_left(R))
}

/// The first block of [`BATCH`] streams with consecutive stream numbers, lane-parallel (lane l
/// is stream first + l): 4 double rounds on 16 rows of 8 lanes, which vectorise.
#[inline(always)]
fn blocks_body(state: &[u32; 16], first: u64) -> [[u32; 16]; BATCH] {
    let mut init: [Lanes; 16] = std::array::from_fn(|i| [state[i]; BATCH]);
    init[14] = std::array::from_fn(|l| first.wrapping_add(l as u64) as u32);
    init[15] = std::array::from_fn(|l| (first.wrapping_add(l as u64) >> 32) as u32);
    let mut x = init;
    macro_rules! qr {
        ($a:literal, $b:literal, $c:literal, $d:literal) => {
            x[$a] = lanes_add(x[$a], x[$b]);
            x[$d] = lanes_xor_rotl::<16>(x[$d], x[$a]);
            x[$c] = lanes_add(x[$c], x[$d]);
            x[$b] = lanes_xor_rotl::<12>(x[$b], x[$c]);
            x[$a] = lanes_add(x[$a], x[$b]);
            x[$d] = lanes_xor_rotl::<8>(x[$d], x[$a]);
            x[$c] = lanes_add(x[$c], x[$d]);
            x[$b] = lanes_xor_rotl::<7>(x[$b], x[$c]);
        };
    }
    for _ in 0..4 {
        qr!(0, 4, 8, 12);
        qr!(1, 5, 9, 13);
        qr!(2, 6, 10, 14);
        qr!(3, 7, 11, 15);
        qr!(0, 5, 10, 15);
        qr!(1, 6, 11, 12);
        qr!(2, 7, 8, 13);
        qr!(3, 4, 9, 14);
    }
    let sum: [Lanes; 16] = std::array::from_fn(|i| lanes_add(x[i], init[i]));
    std::array::from_fn(|l| std::array::from_fn(|i| sum[i][l]))
}

/// [`blocks_body`] compiled for the instruction set of [`mfl_core::simd::Isa::detect`]
/// (integer arithmetic: the same words on every copy).
fn blocks(state: &[u32; 16], first: u64) -> [[u32; 16]; BATCH] {
    mfl_core::isa_dispatch!(mfl_core::simd::Isa::detect(), [_FMA]
    fn b(state: &[u32; 16], first: u64) -> [[u32; 16]; BATCH] {
        blocks_body(state, first)
    })
}

impl Stream {
    /// The streams first, first + 1, …, first + 7 of (key, slot), each with its first block
    /// already generated (8 blocks computed side by side); identical to 8 × [`Stream::new`].
    pub fn batch(key: &[u8; 32], first: u64, slot: u64) -> [Stream; BATCH] {
        let base = Stream::new(key, 0, slot);
        let b = blocks(&base.state, first);
        let mut next = base.state;
        let c = ((u64::from(next[13]) << 32) | u64::from(next[12])).wrapping_add(1);
        next[12] = c as u32;
        next[13] = (c >> 32) as u32;
        std::array::from_fn(|l| {
            let mut state = next;
            let s = first.wrapping_add(l as u64);
            state[14] = s as u32;
            state[15] = (s >> 32) as u32;
            Stream {
                state,
                block: b[l],
                index: 0,
            }
        })
    }
}

impl rand::TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.word())
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let lo = self.word();
        let hi = self.word();
        Ok((u64::from(hi) << 32) | u64::from(lo))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for c in dst.chunks_mut(4) {
            let w = self.word().to_le_bytes();
            c.copy_from_slice(&w[..c.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn single_block_stream_equals_chacha8rng() {
        use rand::RngExt;
        use rand_distr::StandardNormal;
        for seed in [0u64, 1, 42, u64::MAX] {
            let k = key(seed);
            for stream in [0u64, 1, 1099, BATCH_STREAM, u64::MAX >> 1] {
                for slot in [0u64, 1, 2, 77, (1 << 36) - 2] {
                    let mut a = stream_rng(&k, stream, slot);
                    let mut b = Stream::new(&k, stream, slot);
                    // mixed reads across block boundaries (and the 4-block refill at 64 words)
                    for i in 0..150 {
                        match i % 5 {
                            0 => assert_eq!(a.next_u32(), b.next_u32()),
                            4 => {
                                let (mut x, mut y) = ([0u8; 7], [0u8; 7]);
                                a.fill_bytes(&mut x);
                                b.fill_bytes(&mut y);
                                assert_eq!(x, y);
                            }
                            _ => assert_eq!(a.next_u64(), b.next_u64()),
                        }
                    }
                    let mut batch = Stream::batch(&k, stream, slot);
                    for (l, c) in batch.iter_mut().enumerate() {
                        let mut a = stream_rng(&k, stream.wrapping_add(l as u64), slot);
                        for _ in 0..20 {
                            assert_eq!(a.next_u64(), c.next_u64());
                        }
                    }
                    let mut a = stream_rng(&k, stream, slot);
                    let mut b = Stream::new(&k, stream, slot);
                    for _ in 0..40 {
                        let (x, y): (f64, f64) =
                            (a.sample(StandardNormal), b.sample(StandardNormal));
                        assert_eq!(x.to_bits(), y.to_bits());
                    }
                }
            }
        }
    }

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
