//! Repositories cloned once and fetched on later runs, in a cache folder.
//!
//! The git command line does the network work: it speaks every transport and
//! credential helper a company's servers need (https with tokens, ssh with keys, the
//! git protocol, file URLs), and it is what the history scanner's repositories are
//! made by anyway. Histories are kept as bare mirrors (every ref); a target without
//! history is a depth-1 checkout of the default branch.
//!
//! Credentials go to git through its environment (`GIT_CONFIG_*`, `GIT_SSH_COMMAND`),
//! never its command line (which other users of the machine can read) and never the
//! cached repository's config; git's messages are cleaned of them before anyone sees
//! them. A clone that is killed half-way leaves a `.partial` folder that the next
//! attempt removes.

use crate::inventory::{without_password, GitAuth};
use crate::EstateError;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cache folder.
#[derive(Debug, Clone)]
pub struct GitCache {
    root: PathBuf,
}

impl GitCache {
    /// A cache in `root` (created when first needed).
    pub fn new(root: &Path) -> GitCache {
        GitCache {
            root: root.to_path_buf(),
        }
    }

    /// Where `url`'s copy lives: a readable slug and a digest of the URL, so two
    /// repositories both called `app` stay apart.
    pub fn dir_for(&self, url: &str, history: bool) -> PathBuf {
        let last = url
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("repo")
            .trim_end_matches(".git");
        let slug: String = last
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let digest: String = Sha256::digest(url.as_bytes())
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let suffix = if history { ".git" } else { "-files" };
        self.root.join(format!("{slug}-{digest}{suffix}"))
    }

    /// Bytes the cached copy of `url` takes (its objects), if there is one: the size
    /// the first run of an estate balances by.
    pub fn cached_size(&self, url: &str, history: bool) -> Option<u64> {
        let dir = self.dir_for(url, history);
        dir.is_dir().then(|| folder_size(&dir))
    }

    /// Clone `url` into the cache, or fetch what is new if it is there, and return the
    /// folder to scan: a bare mirror (`history`) or a checkout of the default branch.
    pub fn fetch(&self, url: &str, history: bool, auth: &GitAuth) -> Result<PathBuf, EstateError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| EstateError::Io(self.root.display().to_string(), e))?;
        let dir = self.dir_for(url, history);
        let git = Git::new(auth)?;
        let present = if history {
            dir.join("HEAD").is_file()
        } else {
            dir.join(".git").is_dir()
        };
        if present {
            if history {
                git.run(url, Some(&dir), &["fetch", "--prune", "--quiet", "origin"])?;
            } else {
                git.run(
                    url,
                    Some(&dir),
                    &["fetch", "--depth", "1", "--quiet", "origin", "HEAD"],
                )?;
                git.run(
                    url,
                    Some(&dir),
                    &["reset", "--hard", "--quiet", "FETCH_HEAD"],
                )?;
                git.run(url, Some(&dir), &["clean", "-fdxq"])?;
            }
            return Ok(dir);
        }
        let partial = dir.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial)
                .map_err(|e| EstateError::Io(partial.display().to_string(), e))?;
        }
        if dir.exists() {
            // Not a repository any more (a clone from an older layout, a half-deleted
            // copy): start again.
            std::fs::remove_dir_all(&dir)
                .map_err(|e| EstateError::Io(dir.display().to_string(), e))?;
        }
        let target = partial.display().to_string();
        let args: Vec<&str> = if history {
            vec!["clone", "--mirror", "--quiet", "--", url, &target]
        } else {
            vec![
                "clone",
                "--depth",
                "1",
                "--quiet",
                "--no-tags",
                "--",
                url,
                &target,
            ]
        };
        git.run(url, None, &args)?;
        std::fs::rename(&partial, &dir)
            .map_err(|e| EstateError::Io(dir.display().to_string(), e))?;
        Ok(dir)
    }
}

/// Bytes of every file under `dir`.
fn folder_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// How git is run for one target: its environment, and the secrets to clean out of
/// what it says.
struct Git {
    env: Vec<(String, String)>,
    secrets: Vec<String>,
}

impl Git {
    fn new(auth: &GitAuth) -> Result<Git, EstateError> {
        // A server that stops sending for a minute is given up on rather than
        // holding a pod for ever.
        let mut config: Vec<(String, String)> = vec![
            ("http.lowSpeedLimit".into(), "1000".into()),
            ("http.lowSpeedTime".into(), "60".into()),
        ];
        let mut secrets = Vec::new();
        let mut env = vec![
            // Never wait for a password on a terminal no one is watching.
            ("GIT_TERMINAL_PROMPT".to_string(), "0".to_string()),
            ("GCM_INTERACTIVE".to_string(), "never".to_string()),
        ];
        if let Some(var) = &auth.password_env {
            let password = std::env::var(var)
                .map_err(|_| EstateError::MissingSecret(format!("environment variable {var}")))?;
            let user = auth.username.as_deref().unwrap_or("git");
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.trim()));
            config.push((
                "http.extraHeader".into(),
                format!("Authorization: Basic {basic}"),
            ));
            secrets.push(password.trim().to_string());
            secrets.push(basic);
        }
        if let Some(file) = &auth.credentials_file {
            if !file.is_file() {
                return Err(EstateError::MissingSecret(format!(
                    "credentials file {}",
                    file.display()
                )));
            }
            config.push((
                "credential.helper".into(),
                format!("store --file={}", shell_quoted(&file.display().to_string())),
            ));
        }
        {
            // Never a password prompt, and a server that stops answering is given up
            // on (ssh has no timeout of its own once connected).
            let mut ssh = String::from(
                "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=30 -o ServerAliveCountMax=4",
            );
            if let Some(key) = &auth.ssh_key {
                if !key.is_file() {
                    return Err(EstateError::MissingSecret(format!(
                        "ssh key {}",
                        key.display()
                    )));
                }
                ssh.push_str(" -o IdentitiesOnly=yes -i ");
                ssh.push_str(&shell_quoted(&key.display().to_string()));
            }
            match &auth.known_hosts {
                Some(hosts) => {
                    ssh.push_str(" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=");
                    ssh.push_str(&shell_quoted(&hosts.display().to_string()));
                }
                None => ssh.push_str(" -o StrictHostKeyChecking=accept-new"),
            }
            env.push(("GIT_SSH_COMMAND".into(), ssh));
        }
        env.push(("GIT_CONFIG_COUNT".into(), config.len().to_string()));
        for (i, (k, v)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}"), k));
            env.push((format!("GIT_CONFIG_VALUE_{i}"), v));
        }
        Ok(Git { env, secrets })
    }

    /// Run git (in `dir`, a repository, when given); its complaint, cleaned, if it
    /// fails.
    fn run(&self, url: &str, dir: Option<&Path>, args: &[&str]) -> Result<(), EstateError> {
        let mut cmd = Command::new("git");
        if let Some(dir) = dir {
            cmd.arg("-C").arg(dir);
        }
        cmd.args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().map_err(|e| EstateError::Git {
            url: without_password(url),
            message: format!("cannot run git: {e}"),
        })?;
        if out.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&out.stderr);
        let mut message: String = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(without_password)
            .collect::<Vec<_>>()
            .join("; ");
        for s in &self.secrets {
            if !s.is_empty() {
                message = message.replace(s.as_str(), "***");
            }
        }
        if message.is_empty() {
            message = format!(
                "git {} failed ({})",
                args.first().unwrap_or(&""),
                out.status
            );
        }
        Err(EstateError::Git {
            url: without_password(url),
            message,
        })
    }
}

/// `s` as one word for the shell git runs `GIT_SSH_COMMAND` and helpers with.
fn shell_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn a_repository_is_cloned_then_fetched() {
        let tmp = tempfile::tempdir().unwrap();
        let origin = tmp.path().join("origin");
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "-b", "main"]);
        std::fs::write(origin.join("a.txt"), "one\n").unwrap();
        git(&origin, &["add", "."]);
        git(&origin, &["commit", "-qm", "one"]);
        let url = format!("file://{}", origin.display());
        let cache = GitCache::new(&tmp.path().join("cache"));
        let mirror = cache.fetch(&url, true, &GitAuth::default()).unwrap();
        assert!(mirror.join("HEAD").is_file());
        let files = cache.fetch(&url, false, &GitAuth::default()).unwrap();
        assert_eq!(
            std::fs::read_to_string(files.join("a.txt")).unwrap(),
            "one\n"
        );
        // A new commit arrives with the next fetch, in both copies.
        std::fs::write(origin.join("b.txt"), "two\n").unwrap();
        git(&origin, &["add", "."]);
        git(&origin, &["commit", "-qm", "two"]);
        assert_eq!(
            cache.fetch(&url, true, &GitAuth::default()).unwrap(),
            mirror
        );
        let log = Command::new("git")
            .arg("--git-dir")
            .arg(&mirror)
            .args(["log", "--oneline", "main"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 2);
        cache.fetch(&url, false, &GitAuth::default()).unwrap();
        assert!(files.join("b.txt").is_file());
        assert!(cache.cached_size(&url, true).unwrap_or(0) > 0);
        // A half-done clone left by a killed process is cleared, not trusted.
        let other = format!("{url}/");
        let partial = cache.dir_for(&other, true).with_extension("partial");
        std::fs::create_dir_all(&partial).unwrap();
        assert!(cache.fetch(&other, true, &GitAuth::default()).is_ok());
        assert!(!partial.exists());
    }

    #[test]
    fn failures_say_why_without_the_token() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = GitCache::new(tmp.path());
        std::env::set_var("LEAKHOUND_TEST_GIT_TOKEN", "tok-3f9a1c77e2");
        let auth = GitAuth {
            password_env: Some("LEAKHOUND_TEST_GIT_TOKEN".into()),
            ..GitAuth::default()
        };
        let missing = format!("file://{}/nowhere", tmp.path().display());
        let e = cache.fetch(&missing, true, &auth).unwrap_err().to_string();
        assert!(e.contains("nowhere"), "{e}");
        assert!(!e.contains("tok-3f9a1c77e2"), "{e}");
        let unset = GitAuth {
            password_env: Some("LEAKHOUND_TEST_UNSET_VARIABLE".into()),
            ..GitAuth::default()
        };
        let e = cache.fetch(&missing, true, &unset).unwrap_err().to_string();
        assert!(e.contains("LEAKHOUND_TEST_UNSET_VARIABLE"), "{e}");
    }

    #[test]
    fn cache_folders_are_named_after_the_repository() {
        let cache = GitCache::new(Path::new("/c"));
        let a = cache.dir_for("https://h/team/app.git", true);
        let b = cache.dir_for("https://other/team/app.git", true);
        assert!(a.file_name().unwrap().to_string_lossy().starts_with("app-"));
        assert_ne!(a, b);
        assert!(cache
            .dir_for("git@h:x/y.git", false)
            .to_string_lossy()
            .ends_with("-files"));
    }
}
