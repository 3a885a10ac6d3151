#!/usr/bin/env bash
# Update the message catalogue after changing German texts: extract, merge, compile.
set -euo pipefail
cd "$(dirname "$0")/.."
KW="-k N_ -k _l -k lazy_gettext -k ServiceError -k Invalid -k Conflict -k NotFound -k Forbidden -k LoginThrottled -k Missing:3 -k get_or_404:4"
.venv/bin/pybabel extract -F babel.cfg $KW -o grants/translations/messages.pot --no-location --omit-header --sort-output . >/dev/null
.venv/bin/pybabel update -i grants/translations/messages.pot -d grants/translations -l en --no-fuzzy-matching >/dev/null
.venv/bin/pybabel compile -d grants/translations >/dev/null
