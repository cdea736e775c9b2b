#!/usr/bin/env bash
# Run the headless browser test of the web client, installing what is
# missing first: Debian's chromium, chromium-driver and a CJK font, selenium
# in .venv, and sao (bin/install-sao). Arguments go to test_browser.py
# (--keep, --login-only, --walks callcentre,admin; or BROWSER_WALKS=...).
# Ends with "1 passed, 0 failed" or "0 passed, 1 failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { echo "browser: $*" >&2; }

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when the package lists do not know the packages
    if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        log "apt-get update"
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends "$@" >&2
    fi
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# Chinese text in the screenshots needs a CJK font
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    missing+=(fonts-wqy-microhei)
fi
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

if [ -x bin/venv ]; then
    bin/venv
elif [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q -e '.[test]'
fi
if ! .venv/bin/python -c 'import selenium' 2>/dev/null; then
    log "installing selenium into .venv"
    .venv/bin/python -m pip install -q 'selenium >= 4.10' >&2
fi

bin/install-sao

exec .venv/bin/python tests/browser/test_browser.py "$@"
