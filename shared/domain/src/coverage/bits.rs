//! A fixed-length bit set and its compact, canonical bytes (the coverage's and the ledger's seq
//! sets), with the LEB128 varints both use.

use std::ops::Range;

/// Format byte: the raw bitmap follows.
const BITMAP: u8 = 1;
/// Format byte: run lengths follow.
const RUNS: u8 = 2;

/// Why bytes were not a bit set (or a varint): a short reason for the log.
pub(crate) type Why = &'static str;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bits {
    len: u32,
    words: Vec<u64>,
}

impl Bits {
    pub(crate) fn new(len: u32) -> Self {
        Self { len, words: vec![0; len.div_ceil(64) as usize] }
    }

    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    pub(crate) fn get(&self, i: u32) -> bool {
        i < self.len && self.words.get((i / 64) as usize).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }

    /// Sets bit `i` (ignored past the end); whether it was unset before.
    pub(crate) fn set(&mut self, i: u32) -> bool {
        if i >= self.len {
            return false;
        }
        match self.words.get_mut((i / 64) as usize) {
            Some(w) => {
                let mask = 1u64 << (i % 64);
                let was = *w & mask != 0;
                *w |= mask;
                !was
            }
            None => false,
        }
    }

    pub(crate) fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    /// Sets the bits of `r` (clamped to the set); the sub-ranges that were unset before.
    pub(crate) fn set_range(&mut self, r: Range<u32>) -> Vec<Range<u32>> {
        let mut newly: Vec<Range<u32>> = Vec::new();
        for i in r.start..r.end.min(self.len) {
            if self.set(i) {
                match newly.last_mut() {
                    Some(last) if last.end == i => last.end = i + 1,
                    _ => newly.push(i..i + 1),
                }
            }
        }
        newly
    }

    pub(crate) fn any_in(&self, r: Range<u32>) -> bool {
        (r.start..r.end.min(self.len)).any(|i| self.get(i))
    }

    /// The runs of set bits, in order.
    pub(crate) fn ones(&self) -> Vec<Range<u32>> {
        let mut runs: Vec<Range<u32>> = Vec::new();
        for i in 0..self.len {
            if self.get(i) {
                match runs.last_mut() {
                    Some(last) if last.end == i => last.end = i + 1,
                    _ => runs.push(i..i + 1),
                }
            }
        }
        runs
    }

    /// The lowest set bit.
    pub(crate) fn lowest(&self) -> Option<u32> {
        let (w, word) = self.words.iter().enumerate().find(|(_, w)| **w != 0)?;
        Some(w as u32 * 64 + word.trailing_zeros())
    }

    /// The same bits in a set of `len` (cut or padded with unset bits).
    pub(crate) fn resized(&self, len: u32) -> Self {
        let mut out = Self::new(len);
        for i in 0..self.len.min(len) {
            if self.get(i) {
                out.set(i);
            }
        }
        out
    }

    /// The lengths of the alternating unset/set runs, starting with an unset run (maybe 0).
    fn run_lengths(&self) -> Vec<u32> {
        let mut runs = vec![0u32];
        let mut current = false;
        for i in 0..self.len {
            let bit = self.get(i);
            if bit != current {
                runs.push(0);
                current = bit;
            }
            if let Some(last) = runs.last_mut() {
                *last += 1;
            }
        }
        runs
    }

    fn bitmap_bytes(&self) -> usize {
        self.len.div_ceil(8) as usize
    }

    /// The format byte, then the bitmap or the runs, whichever is smaller (the bitmap on a tie).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut runs = vec![RUNS];
        if self.len > 0 {
            for r in self.run_lengths() {
                put_varint(&mut runs, u64::from(r));
            }
        }
        if runs.len() < 1 + self.bitmap_bytes() {
            return runs;
        }
        let mut out = Vec::with_capacity(1 + self.bitmap_bytes());
        out.push(BITMAP);
        for i in 0..self.bitmap_bytes() {
            let word = self.words.get(i / 8).copied().unwrap_or(0);
            out.push((word >> ((i % 8) * 8)) as u8);
        }
        out
    }

    /// Reads what [`Bits::encode`] wrote for a set of `len` bits, and nothing else.
    pub(crate) fn decode(bytes: &[u8], len: u32) -> Result<Self, Why> {
        let (&format, body) = bytes.split_first().ok_or("empty")?;
        let mut out = Self::new(len);
        match format {
            BITMAP => {
                if body.len() != out.bitmap_bytes() {
                    return Err("bitmap of the wrong length");
                }
                for (i, byte) in body.iter().enumerate() {
                    for b in 0..8 {
                        if (byte >> b) & 1 == 1 {
                            let bit = i as u32 * 8 + b;
                            if bit >= len {
                                return Err("bits set past the end");
                            }
                            out.set(bit);
                        }
                    }
                }
            }
            RUNS => {
                let bitmap_len = 1 + out.bitmap_bytes();
                if bytes.len() >= bitmap_len {
                    return Err("runs where the bitmap is smaller");
                }
                let mut reader = Reader::new(body);
                let mut at: u32 = 0;
                let mut set = false;
                let mut first = true;
                while !reader.is_empty() {
                    let run = u32::try_from(reader.varint()?).map_err(|_| "run too long")?;
                    if run == 0 && !first {
                        return Err("empty run");
                    }
                    let end = at.checked_add(run).filter(|e| *e <= len).ok_or("runs past the end")?;
                    if set {
                        out.set_range(at..end);
                    }
                    at = end;
                    set = !set;
                    first = false;
                }
                if at != len {
                    return Err("runs short of the end");
                }
            }
            _ => return Err("unknown format"),
        }
        Ok(out)
    }
}

/// Appends `v` as an LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads bytes front to back, refusing what runs out or is not canonical.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn byte(&mut self) -> Result<u8, Why> {
        let (&b, rest) = self.bytes.split_first().ok_or("truncated")?;
        self.bytes = rest;
        Ok(b)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Why> {
        if n > self.bytes.len() {
            return Err("truncated");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A canonical LEB128 varint of at most 64 bits (no overlong form).
    pub(crate) fn varint(&mut self) -> Result<u64, Why> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err("varint overflows 64 bits");
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err("overlong varint");
                }
                return Ok(v);
            }
        }
        Err("varint too long")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_bytes(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        out
    }

    #[test]
    fn varints_round_trip_and_refuse_overlong_forms() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let bytes = varint_bytes(v);
            let mut r = Reader::new(&bytes);
            assert_eq!(r.varint(), Ok(v));
            assert!(r.is_empty());
        }
        assert_eq!(Reader::new(&[0x80, 0x00]).varint(), Err("overlong varint"));
        assert_eq!(Reader::new(&[0x80]).varint(), Err("truncated"));
        assert!(Reader::new(&[0xff; 11]).varint().is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).varint().is_err());
    }

    #[test]
    fn lowest_and_ones() {
        let mut b = Bits::new(200);
        assert_eq!(b.lowest(), None);
        b.set_range(3..6);
        b.set(130);
        assert_eq!(b.lowest(), Some(3));
        assert_eq!(b.ones(), vec![3..6, 130..131]);
        assert_eq!(b.set_range(0..8), vec![0..3, 6..8]);
        assert!(!b.set(200), "past the end is ignored");
        assert_eq!(b.count(), 9);
        assert_eq!(b.resized(4).ones(), vec![0..4]);
    }

    #[test]
    fn empty_and_full_sets_encode_as_runs() {
        let mut b = Bits::new(1000);
        assert_eq!(b.encode(), vec![RUNS, 0xe8, 0x07]);
        b.set_range(0..1000);
        assert_eq!(b.encode(), vec![RUNS, 0, 0xe8, 0x07]);
        assert_eq!(Bits::decode(&b.encode(), 1000), Ok(b));
        assert_eq!(Bits::new(0).encode(), vec![BITMAP]);
        assert_eq!(Bits::decode(&[BITMAP], 0), Ok(Bits::new(0)));
    }
}
