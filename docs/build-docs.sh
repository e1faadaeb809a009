#!/bin/sh
# Builds the API reference and fails on any Doxygen warning or any broken doc rule
# (docs/check_docs.py).  Usage: build-docs.sh DOXYGEN DOXYFILE OUTDIR PYTHON SRCDIR
set -eu
doxygen=$1
doxyfile=$2
out=$3
python=$4
src=$5
rm -rf "$out/html" "$out/xml"
mkdir -p "$out"
: > "$out/warnings.log"
status=0
"$doxygen" "$doxyfile" || status=1
if [ -s "$out/warnings.log" ]; then
	echo "doxygen warnings (each one fails the docs):"
	cat "$out/warnings.log"
	status=1
fi
[ -d "$out/xml" ] && { "$python" "$src/docs/check_docs.py" "$out/xml" "$src/include" || status=1; }
[ $status -eq 0 ] && echo "API reference: $out/html/index.html"
exit $status
