# t/shim/shim.mk -- LD_PRELOAD shims for the test httpd (included by the
# top-level Makefile.am). Built by `make check` only, never installed:
# libtool wants an rpath to make a shared object, /nowhere says it is not
# meant to be found there. t/run-suite copies every t/shim/.libs/*.so into
# its scratch tree and names that directory to the tests (PRX_SHIMDIR).
#   prx_fakedns.so  getaddrinfo() for *.prx-test.invalid from a mapping
#                   file (t/workers/dns.t)

check_LTLIBRARIES = t/shim/prx_fakedns.la

# no sanitizer flags: the shim must load into any httpd, and under the
# sanitizer build libasan is preloaded ahead of it anyway
t_shim_prx_fakedns_la_SOURCES = t/shim/prx_fakedns.c
t_shim_prx_fakedns_la_CPPFLAGS =
t_shim_prx_fakedns_la_CFLAGS = $(WARN_CFLAGS)
t_shim_prx_fakedns_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
t_shim_prx_fakedns_la_LIBADD = -ldl -lpthread
