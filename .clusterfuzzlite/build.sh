#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: the library compiled with the engine's $CC and $CFLAGS
# (sanitizer and coverage flags), then each fuzz/fuzz_<name>.c linked with $LIB_FUZZING_ENGINE
# into $OUT/fuzz_<name>, with its seed corpus (corpus and regression inputs) as
# $OUT/fuzz_<name>_seed_corpus.zip and its dictionary as $OUT/fuzz_<name>.dict.  liburcu is
# linked statically: the runner image does not have it.  A new harness needs nothing here.
cd "$SRC/dmar"
meson setup build-oss -Dbuildtype=plain -Ddefault_library=static -Db_lundef=false \
	-Dbenchmarks=disabled -Djemalloc=disabled
ninja -C build-oss libdmar_internal.a

for src in fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	h=${name#fuzz_}
	$CC $CFLAGS -std=gnu11 -D_GNU_SOURCE -Iinclude -Ibuild-oss/include -Icore -Ipt -Iiotlb -Iengine -Iremap \
		-c "$src" -o "$WORK/$name.o"
	$CXX $CXXFLAGS "$WORK/$name.o" -o "$OUT/$name" $LIB_FUZZING_ENGINE \
		build-oss/libdmar_internal.a -Wl,-Bstatic -lurcu-memb -lurcu-common -Wl,-Bdynamic \
		-lpthread -lm
	rm -f "$OUT/${name}_seed_corpus.zip"
	zip -q -j "$OUT/${name}_seed_corpus.zip" fuzz/"$h"/corpus/* fuzz/"$h"/regressions/* || true
	[ -f "fuzz/$h.dict" ] && cp "fuzz/$h.dict" "$OUT/$name.dict"
done
