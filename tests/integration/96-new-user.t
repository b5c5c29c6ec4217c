#!/bin/bash
# TAP test of what a newcomer trying the documented commands runs into:
#  - `activate --network bridge` on a cold start makes the default network
#    on first use, as docs/network.md says (it failed: "no network bridge");
#  - `kill` with a malformed id is a usage error (2) naming what was given;
#  - an unknown option, or one missing its value, is one line naming it
#    (activate, pool create), not getopt's line and a usage dump;
#  - `network create` with host bits set is one plain line.
# The default network's names are fixed (bridge warmrun0, table
# warmrun_bridge, 10.88.0.0/16): that part is skipped when any of them is
# in use already, and everything it made is removed.
. "$(dirname "$0")/lib.sh"
setup_env newuser
out=$T/out
err=$T/err

# one_line FILE: the file has exactly one line, starting "warmrun: ".
one_line() { [ "$(wc -l <"$1")" -eq 1 ] && grep -q '^warmrun: ' "$1"; }

# ---- kill: a malformed id -------------------------------------------------
wr kill nosuchid >"$out" 2>"$err"
is "$?" 2 "kill with a malformed id: usage error (2)"
like "$(cat "$err")" '"nosuchid" is not a container id' "... naming what was given"

# ---- unknown options: one line ---------------------------------------------
wr activate --rm busybox true >"$out" 2>"$err"
is "$?" 2 "activate --rm: usage error (2)"
one_line "$err"
ok $? "... in one line" || diag_file "$err"
like "$(cat "$err")" "unknown option --rm" "... naming the option"
wr activate -it busybox true >"$out" 2>"$err"
like "$(cat "$err")" "unknown option -i" "activate -it: names -i"
wr activate --memory >"$out" 2>"$err"
is "$?" 2 "activate --memory without a value: 2"
like "$(cat "$err")" "option --memory needs a value" "... saying so in one line"
wr pool create busybox --bogus >"$out" 2>"$err"
is "$?" 2 "pool create --bogus: usage error (2)"
one_line "$err"
ok $? "... in one line" || diag_file "$err"
wr pool create busybox --size >"$out" 2>"$err"
like "$(cat "$err")" "option --size needs a value" "pool create --size without a value: named"

# ---- network create: one plain line ----------------------------------------
wr network create wrnu$$ --subnet 10.231.8.1/24 >"$out" 2>"$err"
is "$?" 1 "network create with host bits: refused (1)"
like "$(cat "$err")" "did you mean 10.231.8.0/24\\?\$" "... one plain line (no strerror after the question)"

# ---- the default bridge network, made on first use by a cold start ----------
nft_table=$(nft list table ip warmrun_bridge 2>/dev/null)
if ! command -v nft >/dev/null || ip link show warmrun0 >/dev/null 2>&1 || [ -n "$nft_table" ] ||
    ip -4 -o addr show | grep -q ' 10\.88\.'; then
    skip 3 "the default network's names (warmrun0, warmrun_bridge, 10.88/16) are in use"
else
    trap 'rc=$?; wr network rm bridge >/dev/null 2>&1; ip link del warmrun0 2>/dev/null;
          nft delete table ip warmrun_bridge 2>/dev/null; (exit $rc); cleanup' EXIT
    wr activate --cold --network bridge busybox -- ip -o -4 addr show eth0 >"$out" 2>"$err"
    is "$?" 0 "activate --cold --network bridge: the default network made on first use" ||
        diag_file "$err"
    like "$(cat "$out")" "inet 10\\.88\\." "... eth0 has an address of 10.88.0.0/16"
    poll_until 10 sh -c "'$WARMRUN_BIN_DIR/warmrun' --state-dir '$STATE' network rm bridge >/dev/null 2>&1"
    ok $? "network rm bridge once the container is gone"
fi
done_testing
