//! Git's delta instructions: how a pack stores a version of a file as copies from an
//! earlier version (its base) and inserted bytes.
//!
//! gix applies deltas only inside its own pack traversal, whose per-object bookkeeping
//! (over 100 bytes for every object of the pack, trees and commits included) was most
//! of a history scan's memory; [`crate::pack_blobs`] walks the pack with a few bytes per
//! object and applies the deltas itself, here. Pack data is untrusted input: every
//! length and offset is checked, and a bad delta is an error, never a panic.

/// Why a delta could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    /// A size in the delta's header runs past its end or overflows.
    #[error("delta header is truncated or too large")]
    Header,
    /// The delta was made against a base of another size.
    #[error("delta expects a base of {expected} bytes, the base has {actual}")]
    BaseSize {
        /// What the delta says.
        expected: u64,
        /// What the base is.
        actual: usize,
    },
    /// An instruction runs past the end of the delta.
    #[error("delta instruction is truncated")]
    Truncated,
    /// Instruction byte 0 is reserved.
    #[error("delta uses the reserved instruction 0")]
    Reserved,
    /// A copy reaches outside the base.
    #[error("delta copies bytes outside its base")]
    CopyOutOfBase,
    /// The instructions do not produce the size the header promised.
    #[error("delta produces {actual} bytes where its header promised {promised}")]
    ResultSize {
        /// What the header says.
        promised: u64,
        /// What the instructions made (so far, when they overran).
        actual: u64,
    },
}

/// A size of the delta header: 7 bits per byte, least significant first.
fn header_size(delta: &[u8], at: &mut usize) -> Result<u64, DeltaError> {
    let mut size = 0u64;
    let mut shift = 0u32;
    loop {
        let byte = *delta.get(*at).ok_or(DeltaError::Header)?;
        *at += 1;
        if shift >= 64 {
            return Err(DeltaError::Header);
        }
        size |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(size);
        }
    }
}

/// The size of the object `delta` produces, without applying it (to decide whether it
/// may be inflated at all).
pub fn result_size(delta: &[u8]) -> Result<u64, DeltaError> {
    let mut at = 0;
    header_size(delta, &mut at)?;
    header_size(delta, &mut at)
}

/// Apply `delta` to `base`, writing the result into `out` (cleared first; its
/// allocation is reused).
pub fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), DeltaError> {
    let mut at = 0;
    let base_size = header_size(delta, &mut at)?;
    if base_size != base.len() as u64 {
        return Err(DeltaError::BaseSize {
            expected: base_size,
            actual: base.len(),
        });
    }
    let promised = header_size(delta, &mut at)?;
    out.clear();
    // The promise is only trusted as far as the delta could possibly make it: a copy
    // instruction makes at most 64 KiB per 8 bytes (a bogus header must not reserve
    // gigabytes).
    let bound = (delta.len() as u64).saturating_mul(1 << 13);
    out.reserve(usize::try_from(promised.min(bound)).unwrap_or(0));
    let over = |made: usize| DeltaError::ResultSize {
        promised,
        actual: made as u64,
    };
    while let Some(&op) = delta.get(at) {
        at += 1;
        if op & 0x80 != 0 {
            // Copy: which offset and size bytes follow is told by the low seven bits.
            let mut field = |bit: u8, shift: u32| -> Result<u32, DeltaError> {
                if op & bit == 0 {
                    return Ok(0);
                }
                let byte = *delta.get(at).ok_or(DeltaError::Truncated)?;
                at += 1;
                Ok(u32::from(byte) << shift)
            };
            let offset = field(0x01, 0)? | field(0x02, 8)? | field(0x04, 16)? | field(0x08, 24)?;
            let mut size = field(0x10, 0)? | field(0x20, 8)? | field(0x40, 16)?;
            if size == 0 {
                size = 0x10000;
            }
            let from = offset as usize;
            let bytes = from
                .checked_add(size as usize)
                .and_then(|to| base.get(from..to))
                .ok_or(DeltaError::CopyOutOfBase)?;
            if (out.len() + bytes.len()) as u64 > promised {
                return Err(over(out.len() + bytes.len()));
            }
            out.extend_from_slice(bytes);
        } else if op == 0 {
            return Err(DeltaError::Reserved);
        } else {
            let bytes = at
                .checked_add(usize::from(op))
                .and_then(|to| delta.get(at..to))
                .ok_or(DeltaError::Truncated)?;
            at += bytes.len();
            if (out.len() + bytes.len()) as u64 > promised {
                return Err(over(out.len() + bytes.len()));
            }
            out.extend_from_slice(bytes);
        }
    }
    if out.len() as u64 != promised {
        return Err(over(out.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// A delta as git writes it, from copy and insert steps.
    enum Step<'a> {
        Copy(u32, u32),
        Insert(&'a [u8]),
    }

    fn encode(base_len: usize, result_len: usize, steps: &[Step]) -> Vec<u8> {
        let mut d = Vec::new();
        varint(base_len as u64, &mut d);
        varint(result_len as u64, &mut d);
        for step in steps {
            match step {
                Step::Copy(offset, size) => {
                    let mut op = 0x80u8;
                    let mut args = Vec::new();
                    for i in 0..4 {
                        let b = (offset >> (8 * i)) as u8;
                        if b != 0 {
                            op |= 1 << i;
                            args.push(b);
                        }
                    }
                    let size = if *size == 0x10000 { 0 } else { *size };
                    for i in 0..3 {
                        let b = (size >> (8 * i)) as u8;
                        if b != 0 {
                            op |= 0x10 << i;
                            args.push(b);
                        }
                    }
                    d.push(op);
                    d.extend(args);
                }
                Step::Insert(bytes) => {
                    for chunk in bytes.chunks(127) {
                        d.push(chunk.len() as u8);
                        d.extend_from_slice(chunk);
                    }
                }
            }
        }
        d
    }

    #[test]
    fn copies_and_inserts_make_the_new_version() {
        let base = b"password = hunter2\nuser = admin\n";
        let want = b"password = changed\nuser = admin\nhost = db\n";
        let delta = encode(
            base.len(),
            want.len(),
            &[
                Step::Copy(0, 11),
                Step::Insert(b"changed"),
                Step::Copy(18, 14),
                Step::Insert(b"host = db\n"),
            ],
        );
        let mut out = Vec::new();
        apply(base, &delta, &mut out).unwrap();
        assert_eq!(out, want);
        assert_eq!(result_size(&delta).unwrap(), want.len() as u64);
    }

    #[test]
    fn a_copy_of_size_zero_means_64_kib() {
        let base = vec![7u8; 0x10000 + 5];
        let delta = encode(base.len(), 0x10000, &[Step::Copy(5, 0x10000)]);
        let mut out = Vec::new();
        apply(&base, &delta, &mut out).unwrap();
        assert_eq!(out.len(), 0x10000);
    }

    #[test]
    fn damaged_deltas_are_errors() {
        let base = b"0123456789";
        let mut out = Vec::new();
        // Wrong base size.
        let d = encode(9, 3, &[Step::Copy(0, 3)]);
        assert!(matches!(
            apply(base, &d, &mut out),
            Err(DeltaError::BaseSize { .. })
        ));
        // Copy outside the base.
        let d = encode(10, 5, &[Step::Copy(8, 5)]);
        assert_eq!(apply(base, &d, &mut out), Err(DeltaError::CopyOutOfBase));
        // Result longer or shorter than promised.
        let d = encode(10, 2, &[Step::Copy(0, 3)]);
        assert!(matches!(
            apply(base, &d, &mut out),
            Err(DeltaError::ResultSize { .. })
        ));
        let d = encode(10, 4, &[Step::Copy(0, 3)]);
        assert!(matches!(
            apply(base, &d, &mut out),
            Err(DeltaError::ResultSize { .. })
        ));
        // Reserved instruction, truncated insert, truncated copy, truncated header.
        let mut d = encode(10, 1, &[]);
        d.push(0);
        assert_eq!(apply(base, &d, &mut out), Err(DeltaError::Reserved));
        let mut d = encode(10, 5, &[]);
        d.extend([5, b'a']);
        assert_eq!(apply(base, &d, &mut out), Err(DeltaError::Truncated));
        let mut d = encode(10, 5, &[]);
        d.push(0x91);
        assert_eq!(apply(base, &d, &mut out), Err(DeltaError::Truncated));
        assert_eq!(apply(base, &[0x8a], &mut out), Err(DeltaError::Header));
        assert_eq!(apply(base, &[0xff; 12], &mut out), Err(DeltaError::Header));
    }

    #[test]
    fn a_huge_promise_does_not_reserve_memory() {
        let mut d = Vec::new();
        varint(0, &mut d);
        varint(1 << 40, &mut d);
        d.extend([1, b'x']);
        let mut out = Vec::new();
        assert!(matches!(
            apply(b"", &d, &mut out),
            Err(DeltaError::ResultSize { .. })
        ));
        assert!(out.capacity() < 1 << 20);
    }

    proptest::proptest! {
        /// Any sequence of in-bounds copies and inserts gives back exactly the bytes
        /// they name, and arbitrary bytes as a delta never panic.
        #[test]
        fn encoded_steps_round_trip(
            base in proptest::collection::vec(proptest::num::u8::ANY, 1..2000),
            raw in proptest::collection::vec((proptest::bool::ANY, 0usize..2000, 1usize..300, proptest::collection::vec(proptest::num::u8::ANY, 1..200)), 0..20),
            junk in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let mut want = Vec::new();
            let mut steps = Vec::new();
            for (copy, offset, size, bytes) in &raw {
                if *copy {
                    let offset = offset % base.len();
                    let size = (*size).min(base.len() - offset);
                    want.extend_from_slice(&base[offset..offset + size]);
                    steps.push(Step::Copy(offset as u32, size as u32));
                } else {
                    want.extend_from_slice(bytes);
                    steps.push(Step::Insert(bytes));
                }
            }
            let delta = encode(base.len(), want.len(), &steps);
            let mut out = Vec::new();
            apply(&base, &delta, &mut out).unwrap();
            proptest::prop_assert_eq!(&out, &want);
            let _ = apply(&base, &junk, &mut out);
        }
    }
}
