//! Bit-level building blocks of the target record: a bit writer and reader,
//! the universal code for small numbers, the Rice-style code for sorted
//! deltas, and the base64 text form. Every read is bounds-checked and returns
//! `Err` on damaged input, never panics.

/// Most-significant-bit-first bit writer.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    bits: u64,
}

impl BitWriter {
    pub fn put(&mut self, value: u128, width: u32) {
        for i in (0..width.min(128)).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if (value >> i) & 1 == 1 {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 0x80 >> (self.bits % 8);
                }
            }
            self.bits += 1;
        }
    }

    /// A number of any size: its bit length in unary, then its bits below
    /// the leading one. 0 costs 1 bit, 1 costs 2, 2..=3 cost 4: small
    /// quotients and counts stay cheap, and no value is ever unbounded.
    pub fn put_num(&mut self, v: u128) {
        let len = 128 - v.leading_zeros();
        self.put(0, len);
        self.put(1, 1);
        if len > 1 {
            self.put(v, len - 1);
        }
    }

    /// A delta as quotient `d >> k` (universal code) and `k` raw low bits.
    pub fn put_rice(&mut self, d: u128, k: u32) {
        self.put_num(d.checked_shr(k).unwrap_or(0));
        self.put(d, k);
    }

    pub fn len_bits(&self) -> u64 {
        self.bits
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The cost in bits of `put_num(v)`.
pub fn num_cost(v: u128) -> u64 {
    let len = u64::from(128 - v.leading_zeros());
    len + 1 + len.saturating_sub(1)
}

/// The Rice parameter that makes `deltas` shortest, and that length in bits.
pub fn best_k(deltas: &[u128]) -> (u32, u64) {
    (0..128u32)
        .map(|k| {
            let cost: u64 = deltas
                .iter()
                .map(|d| num_cost(d.checked_shr(k).unwrap_or(0)) + u64::from(k))
                .sum();
            (k, cost)
        })
        .min_by_key(|&(_, cost)| cost)
        .unwrap_or((0, 0))
}

pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: u64,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, pos: 0 }
    }

    pub fn bit(&mut self) -> Result<u128, String> {
        let byte = usize::try_from(self.pos / 8)
            .ok()
            .and_then(|i| self.bytes.get(i))
            .ok_or("it ends early")?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u128::from(b))
    }

    pub fn get(&mut self, width: u32) -> Result<u128, String> {
        if width > 128 {
            return Err(format!("it has a field of {width} bits"));
        }
        let mut v: u128 = 0;
        for _ in 0..width {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }

    pub fn get_num(&mut self) -> Result<u128, String> {
        let mut len = 0u32;
        while self.bit()? == 0 {
            len += 1;
            if len > 128 {
                return Err("it has a number longer than 128 bits".into());
            }
        }
        match len {
            0 => Ok(0),
            _ => Ok((1u128 << (len - 1)) | self.get(len - 1)?),
        }
    }

    /// A count or length that must fit in `usize` and stay below `max`.
    pub fn get_count(&mut self, max: usize, what: &str) -> Result<usize, String> {
        usize::try_from(self.get_num()?)
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| format!("its {what} is over {max}"))
    }

    pub fn get_rice(&mut self, k: u32) -> Result<u128, String> {
        let q = self.get_num()?;
        let high = q
            .checked_shl(k)
            .filter(|h| h.checked_shr(k) == Some(q))
            .ok_or("it has a delta over 128 bits")?;
        Ok(high | self.get(k)?)
    }
}

/// Standard base64 alphabet: every symbol is allowed in an ELBv2 tag value
/// (`+` and `/` are in the allowed set). Padding is left off: the length of
/// the text already says where the data ends.
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn to_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

pub fn from_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut nbits) = (0u32, 0u32);
    for c in text.chars() {
        let v = B64
            .iter()
            .position(|&s| char::from(s) == c)
            .ok_or_else(|| format!("it has {c:?}, which base64 does not use"))?;
        acc = (acc << 6) | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    // One leftover symbol carries too few bits for a byte: text was cut.
    if nbits >= 6 {
        return Err("its text ends mid-byte: a tag is missing or cut".into());
    }
    Ok(out)
}

/// FNV-1a, 32 bits: enough to tell a torn or mixed record (a crash between
/// two tag writes, a value from another run) from a whole one.
pub fn checksum(bytes: &[u8]) -> [u8; 4] {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h.to_be_bytes()
}
