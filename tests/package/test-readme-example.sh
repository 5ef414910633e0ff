#!/bin/sh
# The README's policy excerpt and the example the packages ship
# (doc/mailward.conf.example) agree: every line of the excerpt is a line
# of the example, in the same order ("..." stands for lines left out),
# and the README's "mailward test" session is what mailward prints for
# the example.  Needs MW_SRCDIR and MW_BUILDDIR (tests/run-tests).
set -u

: "${MW_SRCDIR:?MW_SRCDIR is not set}"
readme=$MW_SRCDIR/README
example=$MW_SRCDIR/doc/mailward.conf.example
case ${MW_BUILDDIR:-build} in
/*) mailward=$MW_BUILDDIR/mailward ;;
*) mailward=$MW_SRCDIR/${MW_BUILDDIR:-build}/mailward ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mw-readme.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

# block FIRST-LINE-TEXT: the indented block that follows the paragraph
# containing the text, without its indentation.
block() {
	awk -v key="$1" '
	index($0, key) { found = 1; next }
	found && !inblock && /^    / { inblock = 1 }
	inblock && !/^    / && !/^$/ { exit }
	inblock { sub(/^    /, ""); print }
	' "$readme"
}

block "set-up; \"make check\" checks that the two agree" >"$tmp/excerpt"
if [ "$(grep -c . "$tmp/excerpt")" -lt 10 ]; then
	echo "not ok 1 - the README has the policy excerpt"
	failed=1
elif awk '
	NR == FNR { if ($0 != "") ex[++n] = $0; next }
	$0 == "" || $0 ~ /^ *\.\.\.$/ { next }
	{ while (i < n && ex[++i] != $0) ; if (ex[i] != $0) { print "README: " $0; bad = 1; exit } }
	END { exit bad }
	' "$example" "$tmp/excerpt" >"$tmp/diff"; then
	echo "ok 1 - the README's policy excerpt is doc/mailward.conf.example's, in order"
else
	echo "not ok 1 - the README's policy excerpt is doc/mailward.conf.example's, in order"
	sed 's/^/# not in the example (or out of order): /' "$tmp/diff"
	failed=1
fi

block "here" >"$tmp/session"
cmd=$(sed -n '1s/^\$ mailward //p' "$tmp/session")
sed 1d "$tmp/session" | sed '/^$/d' >"$tmp/want"
# shellcheck disable=SC2086
"$mailward" ${cmd%% *} -c "$example" ${cmd#* } 2>&1 |
	sed "s|$example|/etc/mailward/mailward.conf|" >"$tmp/got"
if [ -n "$cmd" ] && cmp -s "$tmp/want" "$tmp/got"; then
	echo "ok 2 - the README's \"mailward $cmd\" is what mailward prints for the example"
else
	echo "not ok 2 - the README's \"mailward $cmd\" is what mailward prints for the example"
	diff "$tmp/want" "$tmp/got" | sed 's/^/# /'
	failed=1
fi
exit "$failed"
