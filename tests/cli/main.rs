//! Integration tests: the real `leakhound` binary on real files in temporary trees.
//! One test binary, one module per feature (ripgrep's layout).

mod archives;
mod assess;
mod browser;
mod columns;
mod credential_files;
mod datastore;
mod decoding;
mod decoys;
mod documents;
mod encodings;
mod estate;
mod formats;
mod history;
mod host;
mod hostile;
mod html_report;
mod images;
mod people;
mod precision;
mod rules_cmd;
mod scan_files;
mod serve;
mod spill;
mod suppress;
mod trace;
mod tree;
