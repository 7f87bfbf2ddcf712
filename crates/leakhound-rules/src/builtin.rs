//! The packs compiled into the binary. Adding a rule file means adding a line here.

/// (name, text) of every built-in rule file.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("filters.toml", include_str!("../rules/filters.toml")),
    (
        "secret/cloud.toml",
        include_str!("../rules/secret/cloud.toml"),
    ),
    (
        "secret/code-hosting.toml",
        include_str!("../rules/secret/code-hosting.toml"),
    ),
    (
        "secret/registries.toml",
        include_str!("../rules/secret/registries.toml"),
    ),
    (
        "secret/messaging.toml",
        include_str!("../rules/secret/messaging.toml"),
    ),
    (
        "secret/payment.toml",
        include_str!("../rules/secret/payment.toml"),
    ),
    ("secret/ai.toml", include_str!("../rules/secret/ai.toml")),
    (
        "secret/maps.toml",
        include_str!("../rules/secret/maps.toml"),
    ),
    (
        "secret/private-keys.toml",
        include_str!("../rules/secret/private-keys.toml"),
    ),
    (
        "secret/config-files.toml",
        include_str!("../rules/secret/config-files.toml"),
    ),
    (
        "secret/databases.toml",
        include_str!("../rules/secret/databases.toml"),
    ),
    (
        "secret/saas.toml",
        include_str!("../rules/secret/saas.toml"),
    ),
    (
        "secret/generic.toml",
        include_str!("../rules/secret/generic.toml"),
    ),
    ("personal.toml", include_str!("../rules/personal.toml")),
    ("vehicle.toml", include_str!("../rules/vehicle.toml")),
    (
        "organisation.toml",
        include_str!("../rules/organisation.toml"),
    ),
    ("mining.toml", include_str!("../rules/mining.toml")),
];
