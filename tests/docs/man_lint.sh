#!/bin/sh
# Every man page renders without a warning: mandoc's linter and groff -ww.
cd "$(dirname "$0")/../.." || exit 1
status=0
for page in man/*.[1-8]; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL mandoc lint $page:"; echo "$out"; status=1
	fi
	out=$(groff -ww -t -man -Tutf8 -z "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL groff -ww $page:"; echo "$out"; status=1
	fi
done
[ $status -eq 0 ] && echo "ok: $(ls man/*.[1-8] | wc -l) man pages lint clean"
exit $status
