//! Any bytes through archive expansion and text decoding: must never panic or hang.
//! Run: `cargo fuzz run archive_decode` (needs a nightly toolchain and cargo-fuzz).
#![no_main]

use leakhound_inputs::archive::{expand, Visitor};
use leakhound_inputs::{decode, Limits, Problem};
use libfuzzer_sys::fuzz_target;

struct Sink;
impl Visitor for Sink {
    fn leaf(&mut self, _path: &str, bytes: &[u8]) {
        let enc = decode::sniff(bytes);
        let _ = decode::to_utf8(bytes, enc);
    }
    fn problem(&mut self, _problem: Problem) {}
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_expanded_size: 64 << 20, ..Limits::default() };
    expand("fuzz.bin", data, &limits, &mut Sink);
});
