//! Container images: `docker save` archives and OCI image layouts packed as a tar.
//!
//! An image is a stack of layers, each a tar of the files it adds or changes. A file
//! deleted in a later layer (a whiteout `.wh.NAME`, or an opaque `.wh..wh..opq` that
//! empties a folder) is gone from the running container's filesystem but still in the
//! image: anyone who pulls it can read the layer that added it. So every layer is
//! scanned, and a file that a later layer deletes or replaces is shown as such:
//!
//! - `app.tar!layer 3/app/.env`: in the final filesystem;
//! - `app.tar!layer 1 (removed)/app/.env`: only in the image's history;
//! - `app.tar!image config`: the config's environment and build history, where
//!   `ENV DB_PASSWORD=…` and `RUN mysql -p…` lines end up.
//!
//! Layers are walked last to first, so whether a file survives is known when it is
//! met, and each layer is decompressed once.

use super::{clean_member_name, detect, Container, Expander};
use crate::{Problem, LAYER_SEPARATOR};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Cursor;

/// The regular files and symbolic links of a tar held in memory, by cleaned name,
/// without copying: a file is a slice of the tar.
pub(super) struct TarIndex<'a> {
    files: HashMap<String, &'a [u8]>,
    links: HashMap<String, String>,
}

impl<'a> TarIndex<'a> {
    /// Index `bytes`; `None` if it is not a readable tar.
    pub(super) fn new(bytes: &'a [u8]) -> Option<TarIndex<'a>> {
        let mut archive = tar::Archive::new(Cursor::new(bytes));
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        for entry in archive.entries().ok()? {
            let Ok(entry) = entry else { break };
            let name = clean_member_name(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_file() {
                let start = usize::try_from(entry.raw_file_position()).ok()?;
                let len = usize::try_from(entry.size()).ok()?;
                if let Some(data) = start.checked_add(len).and_then(|end| bytes.get(start..end)) {
                    files.insert(name, data);
                }
            } else if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let resolved = if kind.is_symlink() {
                        resolve(&name, &target)
                    } else {
                        clean_member_name(&target)
                    };
                    links.insert(name, resolved);
                }
            }
        }
        Some(TarIndex { files, links })
    }

    /// A file's bytes by name, following links (a layer shared by two images is
    /// stored once and linked from the other's folder).
    fn get(&self, name: &str) -> Option<&'a [u8]> {
        let mut name = clean_member_name(name);
        for _ in 0..8 {
            if let Some(data) = self.files.get(&name) {
                return Some(data);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A symbolic link's target, relative to the link's folder, as a cleaned name.
fn resolve(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        link.split('/').collect()
    };
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// One image in the archive: its name, config and layers (bottom first).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Image {
    tag: Option<String>,
    config: Option<String>,
    layers: Vec<String>,
}

/// The images an archive holds, if it is a container image archive: `docker save`'s
/// `manifest.json` first (Docker 25 writes both it and an OCI layout), else an OCI
/// layout's `index.json`. `None` for any other tar, which is then read as a tar.
pub(super) fn images(index: &TarIndex<'_>) -> Option<Vec<Image>> {
    docker_save(index).or_else(|| oci_layout(index))
}

fn docker_save(index: &TarIndex<'_>) -> Option<Vec<Image>> {
    let manifest: Value = serde_json::from_slice(index.get("manifest.json")?).ok()?;
    let mut images = Vec::new();
    for entry in manifest.as_array()? {
        let layers: Vec<String> = entry
            .get("Layers")?
            .as_array()?
            .iter()
            .map(|l| l.as_str().map(str::to_string))
            .collect::<Option<_>>()?;
        // Every layer must be there: a tar that merely holds a `manifest.json` is not
        // an image.
        if !layers.iter().all(|l| index.has(l)) {
            return None;
        }
        let tag = entry
            .get("RepoTags")
            .and_then(Value::as_array)
            .and_then(|t| t.first())
            .and_then(Value::as_str)
            .map(str::to_string);
        let config = entry
            .get("Config")
            .and_then(Value::as_str)
            .map(str::to_string);
        images.push(Image {
            tag,
            config,
            layers,
        });
    }
    (!images.is_empty()).then_some(images)
}

/// `sha256:abc…` -> `blobs/sha256/abc…`.
fn blob_path(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok(alg) && ok(hex)).then(|| format!("blobs/{alg}/{hex}"))
}

fn oci_layout(index: &TarIndex<'_>) -> Option<Vec<Image>> {
    if !index.has("oci-layout") {
        return None;
    }
    let top: Value = serde_json::from_slice(index.get("index.json")?).ok()?;
    let mut images = Vec::new();
    oci_manifests(index, &top, None, 0, &mut images);
    (!images.is_empty()).then_some(images)
}

/// Walk an OCI index (an index may list indexes: one per platform) down to image
/// manifests.
fn oci_manifests(
    index: &TarIndex<'_>,
    node: &Value,
    tag: Option<String>,
    depth: usize,
    out: &mut Vec<Image>,
) {
    if depth > 4 {
        return;
    }
    if let Some(layers) = node.get("layers").and_then(Value::as_array) {
        let layers: Vec<String> = layers
            .iter()
            .filter_map(|l| l.get("digest")?.as_str().and_then(blob_path))
            .collect();
        if !layers.is_empty() && layers.iter().all(|l| index.has(l)) {
            let config = node
                .get("config")
                .and_then(|c| c.get("digest"))
                .and_then(Value::as_str)
                .and_then(blob_path);
            out.push(Image {
                tag,
                config,
                layers,
            });
        }
        return;
    }
    for m in node
        .get("manifests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = m
            .get("annotations")
            .and_then(|a| a.get("org.opencontainers.image.ref.name"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| tag.clone());
        let Some(child) = m
            .get("digest")
            .and_then(Value::as_str)
            .and_then(blob_path)
            .and_then(|p| index.get(&p))
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        else {
            continue;
        };
        oci_manifests(index, &child, name, depth + 1, out);
    }
}

/// What later layers did to earlier ones: files they replaced, paths they deleted
/// (whiteouts) and folders they emptied (opaque whiteouts).
#[derive(Default)]
struct Shadow {
    replaced: HashSet<String>,
    deleted: HashSet<String>,
    emptied: HashSet<String>,
}

impl Shadow {
    /// Is a file at `name` in an earlier layer gone from the final filesystem?
    fn hides(&self, name: &str) -> bool {
        if self.replaced.contains(name) || self.deleted.contains(name) {
            return true;
        }
        // Any folder above it deleted or emptied.
        name.match_indices('/').any(|(i, _)| {
            let folder = &name[..i];
            self.deleted.contains(folder) || self.emptied.contains(folder)
        }) || self.emptied.contains("")
    }
}

/// A layer's entries, split into files and what it deletes from the layers below.
struct Layer<'a> {
    files: Vec<(String, &'a [u8])>,
    whiteouts: Vec<String>,
    opaque: Vec<String>,
}

fn read_layer(tar_bytes: &[u8]) -> Result<Layer<'_>, String> {
    let mut archive = tar::Archive::new(Cursor::new(tar_bytes));
    let mut layer = Layer {
        files: Vec::new(),
        whiteouts: Vec::new(),
        opaque: Vec::new(),
    };
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = clean_member_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let (folder, base) = match name.rsplit_once('/') {
            Some((f, b)) => (f, b),
            None => ("", name.as_str()),
        };
        if base == ".wh..wh..opq" {
            layer.opaque.push(folder.to_string());
            continue;
        }
        if let Some(gone) = base.strip_prefix(".wh.") {
            layer.whiteouts.push(if folder.is_empty() {
                gone.to_string()
            } else {
                format!("{folder}/{gone}")
            });
            continue;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let start = usize::try_from(entry.raw_file_position()).map_err(|e| e.to_string())?;
        let len = usize::try_from(entry.size()).map_err(|e| e.to_string())?;
        let Some(data) = start
            .checked_add(len)
            .and_then(|end| tar_bytes.get(start..end))
        else {
            return Err(format!("{name} runs past the end of the layer"));
        };
        layer.files.push((name, data));
    }
    Ok(layer)
}

/// Why a content-addressed blob (`blobs/sha256/HEX`) is not what its name says, if it
/// is not: a layer changed after the image was built (tampered with, or damaged) is
/// worth telling an incident responder about. It is scanned all the same.
fn altered(name: &str, blob: &[u8]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let want = name.strip_prefix("blobs/sha256/")?;
    let got = Sha256::digest(blob);
    let got: String = got.iter().map(|b| format!("{b:02x}")).collect();
    (!want.eq_ignore_ascii_case(&got)).then(|| {
        format!(
            "does not match its digest (sha256:{want}, content hashes to sha256:{got}): \
             altered or damaged after the image was built; scanned anyway"
        )
    })
}

impl Expander<'_> {
    /// Scan every image in an image archive at `path`: configs, then layers from the
    /// top down, marking files a later layer removed.
    pub(super) fn images(
        &mut self,
        path: &str,
        index: &TarIndex<'_>,
        images: Vec<Image>,
        depth: usize,
    ) {
        let several = images.len() > 1;
        let mut configs_seen = HashSet::new();
        for image in images {
            let label = match (&image.tag, several) {
                (Some(tag), true) => format!("{tag} "),
                (None, true) => format!("image {} ", image.layers.len()),
                (_, false) => String::new(),
            };
            if let Some(config) = image.config.as_deref() {
                if let (Some(bytes), true) =
                    (index.get(config), configs_seen.insert(config.to_string()))
                {
                    if let Some(why) = altered(config, bytes) {
                        self.visitor.problem(Problem::unreadable(
                            &format!("{path}{LAYER_SEPARATOR}{label}image config"),
                            why,
                        ));
                    }
                    self.visitor.leaf(
                        &format!("{path}{LAYER_SEPARATOR}{label}image config"),
                        bytes,
                    );
                }
            }
            let mut shadow = Shadow::default();
            for (n, name) in image.layers.iter().enumerate().rev() {
                let Some(blob) = index.get(name) else {
                    continue;
                };
                let shown = format!("{path}{LAYER_SEPARATOR}{label}layer {}", n + 1);
                if let Some(why) = altered(name, blob) {
                    self.visitor.problem(Problem::unreadable(&shown, why));
                }
                let tar_bytes: Cow<'_, [u8]> = match detect(blob) {
                    Some(Container::Tar) => Cow::Borrowed(blob),
                    Some(
                        kind @ (Container::Gzip
                        | Container::Zstd
                        | Container::Xz
                        | Container::Bzip2),
                    ) => match self.decompressed(&shown, blob, kind) {
                        Some(bytes) => Cow::Owned(bytes),
                        None => continue,
                    },
                    // An empty layer (metadata-only steps) is a tar of two zero blocks.
                    _ if blob.iter().all(|&b| b == 0) => continue,
                    _ => {
                        self.visitor.problem(Problem::unreadable(
                            &shown,
                            "image layer is neither a tar nor a compressed tar; not scanned",
                        ));
                        continue;
                    }
                };
                let layer = match read_layer(&tar_bytes) {
                    Ok(l) => l,
                    Err(e) => {
                        self.visitor.problem(Problem::unreadable(
                            &shown,
                            format!("image layer is corrupt: {e}; not scanned"),
                        ));
                        continue;
                    }
                };
                for (file, data) in &layer.files {
                    let removed = if shadow.hides(file) { " (removed)" } else { "" };
                    self.visit(&format!("{shown}{removed}/{file}"), data, depth + 1);
                }
                shadow
                    .replaced
                    .extend(layer.files.into_iter().map(|(f, _)| f));
                shadow.deleted.extend(layer.whiteouts);
                shadow.emptied.extend(layer.opaque);
            }
        }
    }
}

/// See [`super::image_folder_tar`]: the layout's files, in name order, under their
/// names relative to `dir`. Links are not followed.
pub(super) fn folder_tar(dir: &std::path::Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut builder = tar::Builder::new(Vec::new());
    let mut total = 0u64;
    for file in files {
        let Ok(name) = file.strip_prefix(dir) else {
            continue;
        };
        let len = std::fs::metadata(&file)?.len();
        if total.saturating_add(len) > max_bytes {
            break;
        }
        total += len;
        builder.append_path_with_name(&file, name)?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_relative_to_their_folder() {
        assert_eq!(
            resolve("abc/layer.tar", "../def/layer.tar"),
            "def/layer.tar"
        );
        assert_eq!(
            resolve("abc/layer.tar", "/blobs/sha256/x"),
            "blobs/sha256/x"
        );
        assert_eq!(resolve("layer.tar", "./x/y"), "x/y");
    }

    #[test]
    fn a_blob_that_does_not_hash_to_its_name_is_called_altered() {
        // sha256("abc")
        let name = "blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(altered(name, b"abc"), None);
        let why = altered(name, b"abd").unwrap_or_default();
        assert!(why.contains("does not match its digest"), "{why}");
        // docker save's own layer paths are not content addresses.
        assert_eq!(altered("abc/layer.tar", b"x"), None);
    }

    #[test]
    fn blob_paths_come_from_digests_only() {
        assert_eq!(
            blob_path("sha256:ab12").as_deref(),
            Some("blobs/sha256/ab12")
        );
        assert_eq!(blob_path("sha256:../../etc"), None);
        assert_eq!(blob_path("nodigest"), None);
    }

    #[test]
    fn later_layers_hide_what_they_replace_delete_or_empty() {
        let mut s = Shadow::default();
        s.replaced.insert("etc/app.conf".into());
        s.deleted.insert("app/.env".into());
        s.deleted.insert("secrets".into());
        s.emptied.insert("cache".into());
        assert!(s.hides("etc/app.conf"));
        assert!(s.hides("app/.env"));
        assert!(s.hides("secrets/key.pem"));
        assert!(s.hides("cache/x/y"));
        assert!(!s.hides("cache"));
        assert!(!s.hides("app/.env.example"));
        assert!(!s.hides("secretsx/a"));
    }
}
