# fuzz/fuzz.mk -- libFuzzer targets of the protocol files (included by the
# top-level Makefile.am). Not part of `make` or `make check`:
#   make fuzz                      build fuzz/bin/fuzz_*
#   make fuzz-run [FUZZ_SECONDS=n] run each for n seconds (default 15) on a
#                                  scratch copy of its seed corpus
#   make fuzz-clean                remove fuzz/bin and fuzz/work
# See fuzz/README.md.

FUZZ_SECONDS = 15
FUZZ_TARGETS = fuzz_http_head fuzz_chunked fuzz_urlcanon
FUZZ_BIN = fuzz/bin
FUZZ_WORK = fuzz/work
FUZZ_SANFLAGS = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_ALLFLAGS = -g -O1 $(FUZZ_SANFLAGS) $(WARN_CFLAGS) $(APR_CPPFLAGS) \
	-I$(top_srcdir)/modules/proxy -I$(top_srcdir)/modules/proxy/http

FUZZ_HTTP_DEPS = $(top_srcdir)/fuzz/fuzz_common.h \
	$(top_srcdir)/modules/proxy/http/http_parse.c \
	$(top_srcdir)/modules/proxy/http/http_parse.h
FUZZ_CANON_DEPS = $(top_srcdir)/fuzz/fuzz_common.h \
	$(top_srcdir)/modules/proxy/proxy_urlcanon.c \
	$(top_srcdir)/modules/proxy/proxy_urlcanon.h

fuzz-check-cc:
	@if test -z "$(FUZZ_CC)"; then \
	  echo "fuzz: no clang found by configure. Install clang and libFuzzer"; \
	  echo "      (Debian: apt-get install clang libclang-rt-14-dev), then"; \
	  echo "      re-run configure."; \
	  exit 1; \
	fi

$(FUZZ_BIN)/fuzz_http_head: $(top_srcdir)/fuzz/fuzz_http_head.c $(FUZZ_HTTP_DEPS)
	@$(MAKE) $(AM_MAKEFLAGS) fuzz-check-cc
	@$(MKDIR_P) $(FUZZ_BIN)
	$(FUZZ_CC) $(FUZZ_ALLFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz_http_head.c \
	  $(top_srcdir)/modules/proxy/http/http_parse.c $(APR_LIBS)

$(FUZZ_BIN)/fuzz_chunked: $(top_srcdir)/fuzz/fuzz_chunked.c $(FUZZ_HTTP_DEPS)
	@$(MAKE) $(AM_MAKEFLAGS) fuzz-check-cc
	@$(MKDIR_P) $(FUZZ_BIN)
	$(FUZZ_CC) $(FUZZ_ALLFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz_chunked.c \
	  $(top_srcdir)/modules/proxy/http/http_parse.c $(APR_LIBS)

$(FUZZ_BIN)/fuzz_urlcanon: $(top_srcdir)/fuzz/fuzz_urlcanon.c $(FUZZ_CANON_DEPS)
	@$(MAKE) $(AM_MAKEFLAGS) fuzz-check-cc
	@$(MKDIR_P) $(FUZZ_BIN)
	$(FUZZ_CC) $(FUZZ_ALLFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz_urlcanon.c \
	  $(top_srcdir)/modules/proxy/proxy_urlcanon.c $(APR_LIBS)

fuzz: $(FUZZ_BIN)/fuzz_http_head $(FUZZ_BIN)/fuzz_chunked \
	$(FUZZ_BIN)/fuzz_urlcanon

# The committed seed corpus stays small: each run works on a scratch copy
# (what libFuzzer adds goes there). A crash leaves its input in fuzz/work/
# and fails the target.
fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_WORK)/$$t; \
	  $(MKDIR_P) $(FUZZ_WORK)/$$t/corpus || exit 1; \
	  cp $(top_srcdir)/fuzz/corpus/$$t/* $(FUZZ_WORK)/$$t/corpus/ || exit 1; \
	  echo "fuzz-run: $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_WORK)/$$t/ $(FUZZ_WORK)/$$t/corpus \
	    > $(FUZZ_WORK)/$$t/log 2>&1; \
	  rc=$$?; \
	  grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_WORK)/$$t/log; \
	  if test $$rc -ne 0; then \
	    tail -n 40 $(FUZZ_WORK)/$$t/log; \
	    echo "fuzz-run: $$t FAILED (rc $$rc), see $(FUZZ_WORK)/$$t/"; \
	    exit 1; \
	  fi; \
	done

# Not hooked into `make clean` here (clean-local belongs to Makefile.am):
# there, `clean-local: fuzz-clean` does it.
fuzz-clean:
	rm -rf $(FUZZ_BIN) $(FUZZ_WORK)

.PHONY: fuzz fuzz-run fuzz-check-cc fuzz-clean
