# Builds and installs the gonet C library.
#
#   make                             cargo build --release
#   make install PREFIX=/usr/local   install the library, headers, gonet.pc,
#                                    the CMake package and the man pages
#   make uninstall PREFIX=/usr/local remove them again
#   make examples                    build the C examples (see examples-c/)
#
# DESTDIR is honoured for staged installs. LIBDIR=dir installs a library
# already built in dir instead of running cargo. After installing a shared
# library into a system directory, run ldconfig.

CARGO  ?= cargo
PREFIX ?= /usr/local
libdir ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
mandir ?= $(PREFIX)/share/man
cmakedir ?= $(libdir)/cmake/gonet

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOMAJOR := 0

ifeq ($(strip $(LIBDIR)),)
CARGO_TARGET_DIR ?= target
LIBDIR := $(CARGO_TARGET_DIR)/release
BUILD_LIB := 1
endif

# System libraries a program linking libgonet.a needs, as printed by
#   cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs
STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

# Generated from include/gonet.h by tools/manpages.py (tests/man.rs checks
# they are current).
MAN_PAGES := $(wildcard man/man3/*.3)

.PHONY: all lib install uninstall examples

# gonet.pc names the directories relative to ${prefix} where it can.
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(libdir))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(includedir))

all: lib

lib:
ifdef BUILD_LIB
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) $(CARGO) build --release
endif
	@for f in libgonet.so libgonet.a; do test -f $(LIBDIR)/$$f || \
	    { echo "no $(LIBDIR)/$$f: build the library or set LIBDIR" >&2; exit 1; }; done

install: lib
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(mandir)/man3 $(DESTDIR)$(cmakedir)
	install -m 755 $(LIBDIR)/libgonet.so $(DESTDIR)$(libdir)/libgonet.so.$(VERSION)
	ln -sfn libgonet.so.$(VERSION) $(DESTDIR)$(libdir)/libgonet.so.$(SOMAJOR)
	ln -sfn libgonet.so.$(SOMAJOR) $(DESTDIR)$(libdir)/libgonet.so
	install -m 644 $(LIBDIR)/libgonet.a $(DESTDIR)$(libdir)/libgonet.a
	install -m 644 include/gonet.h include/gonet.hpp $(DESTDIR)$(includedir)/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(mandir)/man3/
	install -m 644 cmake/gonetConfig.cmake cmake/gonetConfigVersion.cmake $(DESTDIR)$(cmakedir)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|' gonet.pc.in > $(DESTDIR)$(pkgconfigdir)/gonet.pc

uninstall:
	rm -f $(DESTDIR)$(libdir)/libgonet.so.$(VERSION) \
	      $(DESTDIR)$(libdir)/libgonet.so.$(SOMAJOR) \
	      $(DESTDIR)$(libdir)/libgonet.so \
	      $(DESTDIR)$(libdir)/libgonet.a \
	      $(DESTDIR)$(includedir)/gonet.h \
	      $(DESTDIR)$(includedir)/gonet.hpp \
	      $(DESTDIR)$(cmakedir)/gonetConfig.cmake \
	      $(DESTDIR)$(cmakedir)/gonetConfigVersion.cmake \
	      $(addprefix $(DESTDIR)$(mandir)/man3/,$(notdir $(MAN_PAGES))) \
	      $(DESTDIR)$(pkgconfigdir)/gonet.pc
	-rmdir $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(cmakedir) 2>/dev/null || true

examples:
	$(MAKE) -C examples-c
