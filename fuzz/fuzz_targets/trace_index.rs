//! Any bytes as a trace index file: opening must refuse damage with an error, never
//! panic, and an index that opens must answer lookups without panicking. A first byte
//! that is odd appends the right SHA-256 to the rest, so the fuzzer gets past the
//! checksum to the structure checks behind it.
//! Run: `cargo fuzz run trace_index -- -max_len=1100000` (a real index is > 512 KiB;
//! seed the corpus with one made by `leakhound trace index`).
#![no_main]

use leakhound_trace::Index;
use libfuzzer_sys::fuzz_target;
use sha2::Digest;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut file = rest.to_vec();
    if mode % 2 == 1 {
        let sum = sha2::Sha256::digest(rest);
        file.extend_from_slice(&sum);
    }
    let path = std::env::temp_dir().join(format!("leakhound-fuzz-index-{}", std::process::id()));
    if std::fs::write(&path, &file).is_err() {
        return;
    }
    if let Ok(index) = Index::open_unchecked(&path) {
        let records = index.header().records.min(1000) as u32;
        let mut out = Vec::new();
        for r in 0..records {
            let _ = index.id(r);
            let _ = index.date(r);
        }
        for hash in [0u64, 1, u64::MAX, 0x8000_0000_0000_0000, u64::from(mode) << 48] {
            index.find(hash, 10, &mut out);
            assert!(out.len() <= 10);
        }
    }
});
