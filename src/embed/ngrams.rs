//! Character and word n-gram hashes, shared by the dense hashing embedder and the sparse n-gram
//! featuriser so that both read a text the same way.
//!
//! Over `chars` = `" " + text + " "`: character n-grams for n in `char_ngrams.0..=char_ngrams.1`
//! starting at every position; word n-grams for n in `word_ngrams.0..=word_ngrams.1` over words
//! (maximal runs of alphanumeric characters or `_`). Each n-gram is hashed FNV-1a style, one step per
//! character over its Unicode scalar value (`h = (h ^ c) * 0x100000001b3`, 64-bit), seeded per kind,
//! then finished with the SplitMix64 mixer. Integer arithmetic only: the same hashes on every machine.

/// Longest n-gram either kind may use.
pub const MAX_NGRAM: usize = 8;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const CHAR_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const WORD_SEED: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// Which kind of n-gram a hash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gram {
    /// A character n-gram.
    Char,
    /// A word n-gram.
    Word,
}

#[inline(always)]
fn fnv_step(h: u64, c: char) -> u64 {
    (h ^ u64::from(c as u32)).wrapping_mul(FNV_PRIME)
}

/// The SplitMix64 finaliser.
#[inline(always)]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bucket of a hash in a space of `buckets`: the high bits of `m * buckets`.
#[inline(always)]
pub fn bucket(m: u64, buckets: usize) -> usize {
    ((u128::from(m) * buckets as u128) >> 64) as usize
}

/// Call `emit(hash, kind)` for every character n-gram, then every word n-gram, of `chars` (already
/// padded with one space on each side), in a fixed order.
#[inline(always)]
pub fn for_each_gram(
    chars: &[char],
    char_ngrams: (usize, usize),
    word_ngrams: (usize, usize),
    mut emit: impl FnMut(u64, Gram),
) {
    let (cmin, cmax) = char_ngrams;
    if cmax > 0 && chars.len() > 2 {
        let cmin = cmin.max(1);
        for start in 0..chars.len() {
            let gram = &chars[start..(start + cmax).min(chars.len())];
            let mut h = FNV_OFFSET ^ CHAR_SEED;
            for (i, &c) in gram.iter().enumerate() {
                h = fnv_step(h, c);
                if i + 1 >= cmin {
                    emit(mix(h ^ (i + 1) as u64), Gram::Char);
                }
            }
        }
    }

    let (wmin, wmax) = word_ngrams;
    if wmax > 0 {
        // Ring of the last `wmax` word hashes.
        let mut ring = [0u64; MAX_NGRAM];
        let mut words = 0usize;
        let mut h = FNV_OFFSET ^ WORD_SEED;
        let mut in_word = false;
        for &c in chars {
            if c.is_alphanumeric() || c == '_' {
                h = fnv_step(h, c);
                in_word = true;
            } else if in_word {
                ring[words % MAX_NGRAM] = h;
                words += 1;
                // n-grams ending at this word: combine the last n word hashes in order.
                let mut g = WORD_SEED;
                for n in 1..=wmax.min(words) {
                    let wh = ring[(words - n) % MAX_NGRAM];
                    g = mix(g ^ wh).wrapping_add(n as u64);
                    if n >= wmin.max(1) {
                        emit(mix(g ^ (n as u64) << 56), Gram::Word);
                    }
                }
                h = FNV_OFFSET ^ WORD_SEED;
                in_word = false;
            }
        }
    }
}
