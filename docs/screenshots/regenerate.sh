#!/usr/bin/env bash
# Regenerate the screenshots of `leakhound serve` in this folder: the browser test
# (tests/cli/browser.rs) saves each main page as it walks through them. Needs Debian's
# chromium and chromium-driver, and the PostgreSQL server `.ci/run` uses (or
# LEAKHOUND_SKIP_POSTGRES=1 for an SQLite store).
set -euo pipefail
cd "$(dirname "$0")/../.."
CI=1 LEAKHOUND_SCREENSHOTS="$PWD/docs/screenshots" \
  cargo test --locked --test cli browser:: -- --exact browser::a_team_triages_in_chromium_against_postgres
ls -l docs/screenshots/*.png
