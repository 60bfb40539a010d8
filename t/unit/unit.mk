# t/unit/unit.mk -- C unit tests of the protocol files (included by the
# top-level Makefile.am, run by `make check`). Each test links the protocol
# source directly and sees APR only: no httpd headers on its include path,
# which keeps the "protocol files are APR-only" rule honest.

UNIT_TESTS = \
	t/unit/test_http_head \
	t/unit/test_chunked \
	t/unit/test_framing \
	t/unit/test_urlcanon

check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

UNIT_CPPFLAGS = $(APR_CPPFLAGS) -I$(top_srcdir)/modules/proxy \
	-I$(top_srcdir)/modules/proxy/http
UNIT_CFLAGS = $(WARN_CFLAGS) $(SAN_CFLAGS)

t_unit_test_http_head_SOURCES = t/unit/test_http_head.c t/unit/unit.h \
	$(PRX_HTTP_PARSE_SRC)
t_unit_test_http_head_CPPFLAGS = $(UNIT_CPPFLAGS)
t_unit_test_http_head_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_http_head_LDADD = $(APR_LIBS)

t_unit_test_chunked_SOURCES = t/unit/test_chunked.c t/unit/unit.h \
	$(PRX_HTTP_PARSE_SRC)
t_unit_test_chunked_CPPFLAGS = $(UNIT_CPPFLAGS)
t_unit_test_chunked_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_chunked_LDADD = $(APR_LIBS)

t_unit_test_framing_SOURCES = t/unit/test_framing.c t/unit/unit.h \
	$(PRX_HTTP_PARSE_SRC)
t_unit_test_framing_CPPFLAGS = $(UNIT_CPPFLAGS)
t_unit_test_framing_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_framing_LDADD = $(APR_LIBS)

t_unit_test_urlcanon_SOURCES = t/unit/test_urlcanon.c t/unit/unit.h \
	$(PRX_CANON_SRC)
t_unit_test_urlcanon_CPPFLAGS = $(UNIT_CPPFLAGS)
t_unit_test_urlcanon_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_urlcanon_LDADD = $(APR_LIBS)
