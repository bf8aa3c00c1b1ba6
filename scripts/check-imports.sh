#!/usr/bin/env bash
# Imports point inward: the domain does no I/O, and the read API reads read
# models only. Fails listing every offending import.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(head -1 go.mod | awk '{print $2}')
bad=0
for pkg in $(go list ./domain/...); do
  for imp in $(go list -f '{{join .Imports " "}}' "$pkg"); do
    case "$imp" in
      "$mod"/domain*|github.com/google/uuid) ;;
      # Events' JSON, as encoding/json writes and reads it, faster; it does
      # no I/O (domain/event/registry.go says why).
      github.com/segmentio/encoding/json) ;;
      # Domain names typed in Unicode, in their xn-- form: IDNA's tables,
      # no I/O, shared with the read API's ?email filter.
      "$mod"/internal/idn) ;;
      # A path whose first element has a dot is another module's; the
      # standard library's never has one.
      "$mod"/*|*.*/*) echo "$pkg imports $imp (the domain knows only the standard library, uuid, the JSON codec and internal/idn)"; bad=1 ;;
      net/http*|database/*|os/exec|net) echo "$pkg imports $imp (the domain does no I/O)"; bad=1 ;;
    esac
  done
done
# Its tests too: they fill read models through their projectors
# (internal/partnerseed), never with the domain's types.
for pkg in $(go list ./readapi/...); do
  for imp in $(go list -f '{{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' "$pkg"); do
    case "$imp" in
      "$mod"/domain*|"$mod"/commands*) echo "$pkg imports $imp (readapi reads read models only)"; bad=1 ;;
    esac
  done
done
exit $bad
