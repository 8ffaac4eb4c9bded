#!/usr/bin/env bash
# System packages aiida-ssb uses, installed with apt when possible (otherwise a clear message):
#   graphviz  (`dot`) renders provenance graphs to SVG/PNG/PDF (without it graphs are written as .dot);
#   mdbtools  (`mdb-export`) reads Arbin .res files (without it they give "unsupported, export as CSV");
#   chromium, chromium-driver  (headless browser) drive the web page's browser tests (skipped without them).
set -u
packages=""
command -v dot >/dev/null 2>&1 || packages="$packages graphviz"
command -v mdb-export >/dev/null 2>&1 || packages="$packages mdbtools"
if [ "${SSB_SKIP_BROWSER:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || packages="$packages chromium"
  command -v chromedriver >/dev/null 2>&1 || packages="$packages chromium-driver"
fi
if [ -z "$packages" ]; then
  exit 0
fi
install_cmd=""
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    install_cmd="apt-get"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    install_cmd="sudo apt-get"
  fi
fi
if [ -n "$install_cmd" ]; then
  echo "Installing system packages:$packages ..."
  DEBIAN_FRONTEND=noninteractive $install_cmd install -y -q $packages >/dev/null 2>&1 \
    || { DEBIAN_FRONTEND=noninteractive $install_cmd update -q >/dev/null 2>&1 && \
         DEBIAN_FRONTEND=noninteractive $install_cmd install -y -q $packages >/dev/null 2>&1; }
fi
if ! command -v mdb-export >/dev/null 2>&1; then
  echo "NOTE: mdbtools ('mdb-export') is not installed: Arbin .res files cannot be read (export them as CSV,"
  echo "      or install it, e.g. 'sudo apt-get install mdbtools')."
fi
if [ "${SSB_SKIP_BROWSER:-0}" != "1" ] && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
  echo "NOTE: Chromium and ChromeDriver (Debian packages chromium, chromium-driver) are not installed and could"
  echo "      not be installed automatically: the web page's browser tests (tests/web/test_browser.py) will be"
  echo "      skipped. Install them with 'sudo apt-get install chromium chromium-driver' to run them."
fi
if command -v dot >/dev/null 2>&1; then
  :
else
  echo "NOTE: Graphviz ('dot') is not installed and could not be installed automatically."
  echo "      aiida-ssb works without it, but writes provenance graphs as .dot text only and the"
  echo "      docs' diagrams cannot be rendered. Install it with your package manager, e.g."
  echo "      'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS)."
fi
exit 0
