//! XXH64 (seed 0), streaming: the hash Flipt's OFREP bulk ETag uses (`cespare/xxhash`), written
//! from the algorithm's specification. Fast (8 bytes a step) and the same on every machine and
//! build, so replicas answer the same ETag.

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// An XXH64 state.
pub(crate) struct Xxh64 {
    acc: [u64; 4],
    buf: [u8; 32],
    buffered: usize,
    total: u64,
}

fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(h: u64, acc: u64) -> u64 {
    (h ^ round(0, acc)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[i..i + 4]);
    u64::from(u32::from_le_bytes(w))
}

impl Xxh64 {
    /// A state with seed 0.
    pub(crate) fn new() -> Self {
        Xxh64 {
            acc: [P1.wrapping_add(P2), P2, 0, P1.wrapping_neg()],
            buf: [0; 32],
            buffered: 0,
            total: 0,
        }
    }

    fn stripe(&mut self, s: &[u8]) {
        for (i, a) in self.acc.iter_mut().enumerate() {
            *a = round(*a, u64_at(s, i * 8));
        }
    }

    /// Adds bytes.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.buffered + data.len() < 32 {
            self.buf[self.buffered..self.buffered + data.len()].copy_from_slice(data);
            self.buffered += data.len();
            return;
        }
        if self.buffered > 0 {
            let fill = 32 - self.buffered;
            let mut block = self.buf;
            block[self.buffered..].copy_from_slice(&data[..fill]);
            self.stripe(&block);
            data = &data[fill..];
            self.buffered = 0;
        }
        while data.len() >= 32 {
            self.stripe(&data[..32]);
            data = &data[32..];
        }
        self.buf[..data.len()].copy_from_slice(data);
        self.buffered = data.len();
    }

    /// The hash of everything added.
    pub(crate) fn finish(&self) -> u64 {
        let [a, b, c, d] = self.acc;
        let mut h = if self.total >= 32 {
            let h = a
                .rotate_left(1)
                .wrapping_add(b.rotate_left(7))
                .wrapping_add(c.rotate_left(12))
                .wrapping_add(d.rotate_left(18));
            merge(merge(merge(merge(h, a), b), c), d)
        } else {
            P5
        };
        h = h.wrapping_add(self.total);
        let rest = &self.buf[..self.buffered];
        let mut i = 0;
        while i + 8 <= rest.len() {
            h = (h ^ round(0, u64_at(rest, i)))
                .rotate_left(27)
                .wrapping_mul(P1)
                .wrapping_add(P4);
            i += 8;
        }
        if i + 4 <= rest.len() {
            h = (h ^ u32_at(rest, i).wrapping_mul(P1))
                .rotate_left(23)
                .wrapping_mul(P2)
                .wrapping_add(P3);
            i += 4;
        }
        for &byte in &rest[i..] {
            h = (h ^ u64::from(byte).wrapping_mul(P5))
                .rotate_left(11)
                .wrapping_mul(P1);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(P2);
        h ^= h >> 29;
        h = h.wrapping_mul(P3);
        h ^ (h >> 32)
    }
}

#[cfg(test)]
mod tests {
    //! Vectors from the reference implementation (`XXH64(data, len, 0)` of libxxhash 0.8.1).

    use super::Xxh64;

    fn once(data: &[u8]) -> u64 {
        let mut h = Xxh64::new();
        h.update(data);
        h.finish()
    }

    #[test]
    fn reference_vectors() {
        let long: Vec<u8> = (0..768).map(|i| (i % 256) as u8).collect();
        for (data, want) in [
            (&b""[..], 0xef46_db37_51d8_e999_u64),
            (b"a", 0xd24e_c4f1_a98c_6e5b),
            (b"abc", 0x44bc_2cf5_ad77_0999),
            (
                b"Nobody inspects the spammish repetition",
                0xfbce_a83c_8a37_8bf1,
            ),
            (&long, 0x8e03_c838_c596_036f),
        ] {
            assert_eq!(once(data), want, "{} bytes", data.len());
        }
    }

    #[test]
    fn any_split_gives_the_same_hash() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = once(&data);
        for step in [1, 3, 7, 8, 31, 32, 33, 64, 100] {
            let mut h = Xxh64::new();
            for chunk in data.chunks(step) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), whole, "chunks of {step}");
        }
    }
}
