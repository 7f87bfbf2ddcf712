//! Where in a project a file sits: production code and config, or tests, fixtures,
//! examples and documentation. A password in `tests/` is usually a test value and one
//! in `docs/` an example; a real key there is still a leak, but a smaller one. So
//! findings there are kept, with low confidence and one severity lower (a private key
//! in a test folder stays high), instead of being hidden or raised as alarms.

/// Folder names that hold tests, fixtures, examples or documentation.
const FOLDERS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "testdata",
    "test_data",
    "test-data",
    "__tests__",
    "spec",
    "specs",
    "fixture",
    "fixtures",
    "__fixtures__",
    "mock",
    "mocks",
    "__mocks__",
    "stub",
    "stubs",
    "example",
    "examples",
    "sample",
    "samples",
    "demo",
    "demos",
    "doc",
    "docs",
    "documentation",
    "e2e",
    "integration_tests",
    "unittests",
    "benchmarks",
];

/// Extensions of documentation files and of templates shipped with example values
/// (`.env.example`, `app.yml.sample`).
const DOC_EXTENSIONS: &[&str] = &[
    "md", "markdown", "rst", "adoc", "asciidoc", "example", "sample", "template", "tpl", "dist",
];

/// Is `path` (relative to the scanned root; `/`-separated, archive layers after `!`)
/// a test, fixture, example or documentation file?
pub fn is_test_or_example(path: &str) -> bool {
    let path = path.replace('\\', "/");
    let mut segments: Vec<&str> = path
        .split(['/', '!'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let Some(file) = segments.pop() else {
        return false;
    };
    if segments
        .iter()
        .any(|s| FOLDERS.iter().any(|f| s.eq_ignore_ascii_case(f)))
    {
        return true;
    }
    let lower = file.to_ascii_lowercase();
    let (stem, ext) = lower.rsplit_once('.').unwrap_or((&lower, ""));
    if DOC_EXTENSIONS.contains(&ext) {
        return true;
    }
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("_spec")
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("-test")
        || stem == "conftest"
        || stem.ends_with("example")
        || stem.ends_with("sample")
        || file.ends_with("Test.java")
        || file.ends_with("Tests.java")
        || file.ends_with("Test.kt")
        || file.ends_with("Tests.cs")
}

/// Package manifests: the addresses in them are the package's authors and maintainers.
const MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "Cargo.toml.orig",
    "package.json",
    "pom.xml",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "composer.json",
    "bower.json",
    "META.json",
    "META.yml",
    "DESCRIPTION",
    ".asf.yaml",
];

/// Extensions of package specs named after their package (`foo.gemspec`).
const SPEC_EXTENSIONS: &[&str] = &["gemspec", "nuspec", "podspec"];

/// File stems of contributor lists, licences and change logs.
const CONTRIBUTOR_STEMS: &[&str] = &[
    "AUTHORS",
    "CONTRIBUTORS",
    "CODEOWNERS",
    "MAINTAINERS",
    "CREDITS",
    "THANKS",
    "LICENSE",
    "LICENCE",
    "COPYING",
    "COPYRIGHT",
    "NOTICE",
    "CHANGELOG",
    "CHANGES",
    "NEWS",
    "HISTORY",
];

/// Is `path` a list of a project's contributors (`.mailmap`, `AUTHORS`, `CODEOWNERS`,
/// `MAINTAINERS`), a licence or change log, or a package manifest (`Cargo.toml`,
/// `package.json`, `pom.xml`)? The e-mail addresses in it are contributors', not
/// customers'. Stems count only as text files (`AUTHORS`, `AUTHORS.md`), so a data
/// export called `changes.csv` is still data.
pub fn is_contributor_list(path: &str) -> bool {
    let name = path.rsplit(['/', '\\', '!']).next().unwrap_or(path);
    let (stem, extension) = name.split_once('.').unwrap_or((name, ""));
    // `LICENSE-MIT`, `LICENSE_APACHE.txt`
    let stem = stem.split(['-', '_']).next().unwrap_or(stem);
    let text = matches!(
        extension.to_ascii_lowercase().as_str(),
        "" | "md" | "txt" | "rst" | "adoc" | "markdown"
    );
    name == ".mailmap"
        || name == "copyright"
        || MANIFESTS.contains(&name)
        || SPEC_EXTENSIONS
            .iter()
            .any(|e| name.rsplit_once('.').is_some_and(|(_, x)| x == *e))
        || (text
            && CONTRIBUTOR_STEMS
                .iter()
                .any(|s| stem.eq_ignore_ascii_case(s)))
}

/// Extensions of program source, where a bare number is a constant and data sits in
/// string literals (config, data and script files are not in the list).
const CODE_EXTENSIONS: &[&str] = &[
    "rs", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "go", "java", "kt", "kts", "scala", "groovy",
    "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "tsx", "rb", "php", "cs", "fs", "swift", "m",
    "mm", "lua", "dart", "ex", "exs", "erl", "hs", "ml", "zig", "nim", "vue", "svelte",
];

/// Is `path` program source (by its extension)?
pub fn is_source_code(path: &str) -> bool {
    let name = path.rsplit(['/', '\\', '!']).next().unwrap_or(path);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| CODE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributor_lists() {
        assert!(is_contributor_list("./.mailmap"));
        assert!(is_contributor_list("repo/AUTHORS.md"));
        assert!(is_contributor_list(".github/CODEOWNERS"));
        assert!(!is_contributor_list("export/authors_orders.csv"));
        assert!(is_contributor_list("vendor/serde-1.0/Cargo.toml"));
        assert!(is_contributor_list("zip-9.8/Cargo.toml.orig"));
        assert!(is_contributor_list("web/package.json"));
        assert!(is_contributor_list("libbz2/LICENSE"));
        assert!(is_contributor_list("LICENSE-APACHE"));
        assert!(is_contributor_list("CHANGELOG.md"));
        assert!(is_contributor_list("debian/copyright"));
        assert!(is_contributor_list("rails.gemspec"));
        assert!(!is_contributor_list("exports/changes.csv"));
        assert!(!is_contributor_list("data/history.json"));
        assert!(!is_contributor_list("customers.toml"));
    }

    #[test]
    fn source_code_by_extension() {
        assert!(is_source_code("src/d2s_full_table.rs"));
        assert!(is_source_code("app.zip!web/App.vue"));
        assert!(!is_source_code("export/customers.csv"));
        assert!(!is_source_code("deploy/.env"));
        assert!(!is_source_code("Makefile"));
    }

    #[test]
    fn tests_fixtures_examples_and_docs() {
        for p in [
            "test/units/parsing/vault/test_vault.py",
            "./src/__tests__/a.js",
            "pkg/foo_test.go",
            "web/login.spec.ts",
            "src/test/java/com/x/LoginTest.java",
            "docs/setup.md",
            "README.md",
            "config/application.yml.example",
            "deploy.zip!examples/app.env",
            "C:\\\\repo\\\\tests\\\\x.py",
        ] {
            assert!(is_test_or_example(p), "{p}");
        }
        for p in [
            "src/config.py",
            "lib/ansible/module_utils/urls.py",
            "deploy/prod.env",
            "contest/entry.py",
            "latest/app.yml",
            "requirements.txt",
            "export/customers.txt",
            "testimony.py",
        ] {
            assert!(!is_test_or_example(p), "{p}");
        }
    }
}
