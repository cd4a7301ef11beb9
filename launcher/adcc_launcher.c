/* adcc's native launcher: .venv/bin/adcc, adcc++ and adflang (one program, mode from argv[0]).
 *
 * It does the driver's fast path itself for the one common case a build system produces by
 * the thousand: `-c` of exactly one C or C++ source, with nothing the launcher does not fully
 * understand. For that case it runs clang-22 (clang++-22) with the user's argv plus the
 * options the Python driver adds (`-flto=thin -ffat-lto-objects`; `-MF`/`-MQ` for -MD/-MMD;
 * `-o <stem>.o` when no -o was given), then scans the object's native part for `__enzyme_`.
 * No mention: done (exit 0). A mention: the fast-path object is withdrawn and the Python
 * driver redoes the unit with the original argv (AD pipeline).
 *
 * Every other invocation is handed unchanged (execv, argv[0] kept) to the Python launcher
 * next to this binary: <dir of /proc/self/exe>/<adcc|adcc++|adflang>-py. When in doubt, it
 * delegates. ADCC_NATIVE_LAUNCHER=0 in the environment makes it always delegate.
 *
 * Outputs: clang writes the object through a temp file and renames it, removes the output
 * when the compile fails, and leaves an earlier output as it was when killed by a signal; the
 * launcher forwards SIGINT/SIGTERM/SIGHUP to clang and then dies of the same signal, so every
 * case ends as it would with clang alone (and as with the Python driver).
 *
 * Front end: $ADCC_CLANG / $ADCC_CLANGXX, else "clang"/"clang++" + $ADCC_LLVM_SUFFIX (default
 * "-22"), looked up on PATH, exactly as adcc/driver/toolchain.py does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum mode { MODE_C, MODE_CXX, MODE_FORTRAN };
static const char *const PROGRAM[] = {"adcc", "adcc++", "adflang"};

static enum mode mode = MODE_C;
static char exe_dir[4096];

/* ---- delegation -------------------------------------------------------------------------- */

static void delegate(char **argv) __attribute__((noreturn));
static void delegate(char **argv) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s-py", exe_dir, PROGRAM[mode]);
    execv(path, argv);
    fprintf(stderr, "%s: error: cannot run the Python driver '%s': %s\n", PROGRAM[mode], path, strerror(errno));
    exit(1);
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int mode_of_name(const char *name, enum mode *out) {
    for (int m = MODE_C; m <= MODE_FORTRAN; m++)
        if (strcmp(name, PROGRAM[m]) == 0) {
            *out = (enum mode)m;
            return 1;
        }
    return 0;
}

static void find_self(const char *argv0) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) { /* no /proc: fall back on argv[0] */
        n = (ssize_t)strlen(argv0);
        if (n >= (ssize_t)sizeof exe) n = sizeof exe - 1;
        memcpy(exe, argv0, (size_t)n);
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = 0;
        snprintf(exe_dir, sizeof exe_dir, "%s", slash == exe ? "/" : exe);
    } else {
        snprintf(exe_dir, sizeof exe_dir, ".");
    }
    /* mode: argv[0]'s name when it is one of ours, else the binary's own name, else a guess */
    const char *name = base_name(argv0);
    if (mode_of_name(name, &mode)) return;
    if (slash && mode_of_name(slash + 1, &mode)) return;
    size_t len = strlen(name);
    if (strstr(name, "flang") || strstr(name, "fortran"))
        mode = MODE_FORTRAN;
    else if (len >= 2 && (strcmp(name + len - 2, "++") == 0 || strcmp(name + len - 2, "xx") == 0))
        mode = MODE_CXX;
    else
        mode = MODE_C;
}

/* ---- option table (mirrors adcc/driver/options.py for what the launcher needs) ------------- */

enum kind { FLAG, JOINED, SEPARATE, JOINED_OR_SEP };

struct opt {
    const char *name;
    enum kind kind;
};

/* Options whose value may be a separate word, plus the joined prefixes that options.py matches
 * before an unknown option would be taken as a flag. Kept in step with options._TABLE. */
static const struct opt TABLE[] = {
    {"-o", JOINED_OR_SEP}, {"-x", JOINED_OR_SEP}, {"-O", JOINED}, {"-g", JOINED},
    {"-I", JOINED_OR_SEP}, {"-D", JOINED_OR_SEP}, {"-U", JOINED_OR_SEP}, {"-include", JOINED_OR_SEP},
    {"-imacros", JOINED_OR_SEP}, {"-isystem", JOINED_OR_SEP}, {"-iquote", JOINED_OR_SEP},
    {"-idirafter", JOINED_OR_SEP}, {"-isysroot", JOINED_OR_SEP}, {"-iprefix", JOINED_OR_SEP},
    {"-iwithprefix", JOINED_OR_SEP}, {"-std=", JOINED},
    {"-MF", JOINED_OR_SEP}, {"-MT", JOINED_OR_SEP}, {"-MQ", JOINED_OR_SEP}, {"-MJ", JOINED_OR_SEP},
    {"-march=", JOINED}, {"-mcpu=", JOINED}, {"-mtune=", JOINED},
    {"-target", SEPARATE}, {"--target=", JOINED}, {"--sysroot", JOINED_OR_SEP}, {"--sysroot=", JOINED},
    {"-Xclang", SEPARATE}, {"-mllvm", SEPARATE}, {"-Xpreprocessor", SEPARATE}, {"-Xassembler", SEPARATE},
    {"-Xlinker", SEPARATE}, {"-Xflang", SEPARATE}, {"-arch", SEPARATE}, {"--param", SEPARATE},
    {"-main-file-name", SEPARATE}, {"-working-directory", JOINED_OR_SEP}, {"-ivfsoverlay", JOINED_OR_SEP},
    {"-ccc-install-dir", SEPARATE}, {"-module-dependency-dir", SEPARATE},
    {"-serialize-diagnostics", SEPARATE}, {"-dependency-file", SEPARATE}, {"-dependency-dot", SEPARATE},
    {"-l", JOINED_OR_SEP}, {"-L", JOINED_OR_SEP}, {"-Wl,", JOINED}, {"-u", SEPARATE}, {"-z", SEPARATE},
    {"-T", SEPARATE}, {"-e", SEPARATE}, {"-include-pch", SEPARATE}, {"-fuse-ld=", JOINED},
    {"-print-", JOINED}, {"--print-", JOINED}, {"--ad-stage=", JOINED},
};
#define NTABLE (sizeof TABLE / sizeof TABLE[0])

/* options.py's _match: the exact entry, else the longest joined prefix; NULL if unknown. */
static const struct opt *match(const char *word, const char **value) {
    for (size_t i = 0; i < NTABLE; i++)
        if (strcmp(word, TABLE[i].name) == 0) {
            *value = word + strlen(word); /* "" */
            return &TABLE[i];
        }
    const struct opt *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < NTABLE; i++) {
        if (TABLE[i].kind != JOINED && TABLE[i].kind != JOINED_OR_SEP) continue;
        size_t len = strlen(TABLE[i].name);
        if (len > best_len && strncmp(word, TABLE[i].name, len) == 0) {
            best = &TABLE[i];
            best_len = len;
        }
    }
    *value = best ? word + best_len : NULL;
    return best;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Unknown words (not in TABLE) that the launcher leaves to the Python driver: actions it does
 * not do (-E, -S, -M, -MM, -fsyntax-only, -emit-*, -save-temps), queries (-v, -###, -dump*),
 * adcc's own options (and warning groups), LTO choices, the -X family it does not know (a value may look like any
 * option), -Wp, (may hide -MD), other modes (-cc1) and driver internals (-ccc-). Long options
 * (--version, --print-types, ...) are delegated too, except LONG_OK. */
static const char *const DELEGATE_EXACT[] = {
    "-E", "-S", "-M", "-MM", "-v", "-###", "-help", "-dumpversion", "-dumpmachine", "-dumpfullversion",
    "-fsyntax-only", "-fdriver-only", "-mmlir", NULL,
};
static const char *const DELEGATE_PREFIX[] = {
    "-fadcc", "-fno-adcc", "-Wadcc-", "-Wno-adcc-", "-Werror=adcc-", "-Wno-error=adcc-", "-flto", "-fno-lto",
    "-emit-", "-save-temps", "-X", "-Wp,", "-cc1", "-ccc-", "-x", NULL,
};
static const char *const LONG_OK[] = {"--param=", "--gcc-toolchain=", "--gcc-install-dir=", "--stdlib=", NULL};

/* Table entries the launcher leaves to the Python driver (all other entries it handles). */
static const char *const DELEGATE_TABLE[] = {
    "-x", "-print-", "--print-", "--ad-stage=", "-working-directory", "-ccc-install-dir", NULL,
};

static int in_list(const char *word, const char *const *list) {
    for (; *list; list++)
        if (strcmp(word, *list) == 0) return 1;
    return 0;
}

static int delegated_unknown(const char *word) {
    if (word[1] == '-') {
        for (const char *const *p = LONG_OK; *p; p++)
            if (starts(word, *p)) return 0;
        return 1;
    }
    if (in_list(word, DELEGATE_EXACT)) return 1;
    for (const char *const *p = DELEGATE_PREFIX; *p; p++)
        if (starts(word, *p)) return 1;
    return 0;
}

/* Python's os.path.splitext extension of a path's last component ("" when none). */
static const char *extension(const char *path) {
    const char *base = base_name(path);
    const char *dot = strrchr(base, '.');
    if (!dot) return base + strlen(base);
    for (const char *p = base; p < dot; p++)
        if (*p != '.') return dot;
    return base + strlen(base); /* only leading dots: no extension */
}

static int is_source(const char *path) {
    static const char *const C_EXT[] = {".c", NULL};
    static const char *const CXX_EXT[] = {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", NULL};
    const char *ext = extension(path);
    for (const char *const *e = C_EXT; *e; e++)
        if (strcmp(ext, *e) == 0) return 1;
    for (const char *const *e = CXX_EXT; *e; e++)
        if (strcmp(ext, *e) == 0) return 1;
    return 0;
}

/* stem of `path` (splitext(path)[0], directory kept) + suffix, freshly allocated */
static char *with_suffix(const char *path, const char *suffix) {
    size_t stem = (size_t)(extension(path) - path);
    char *s = malloc(stem + strlen(suffix) + 1);
    if (!s) return NULL;
    memcpy(s, path, stem);
    strcpy(s + stem, suffix);
    return s;
}

struct plan {
    const char *input;
    const char *output; /* -o value, NULL when absent */
    int compile, deps, has_mf, has_mt;
};

/* 1 when the launcher can do this invocation itself (fills `p`), 0 to delegate. */
static int plan_fast_path(int argc, char **argv, struct plan *p) {
    int inputs = 0, outputs = 0;
    memset(p, 0, sizeof *p);
    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        if (word[0] == '@') return 0; /* a response file */
        if (word[0] != '-' || strcmp(word, "-") == 0) {
            if (++inputs > 1) return 0;
            p->input = word;
            continue;
        }
        const char *value;
        const struct opt *o = match(word, &value);
        if (o == NULL) {
            if (delegated_unknown(word)) return 0;
            if (strcmp(word, "-c") == 0) p->compile = 1;
            else if (strcmp(word, "-MD") == 0 || strcmp(word, "-MMD") == 0) p->deps = 1;
            continue; /* any other flag goes to clang unchanged, as options.py does */
        }
        if (in_list(o->name, DELEGATE_TABLE)) return 0;
        if (o->kind == SEPARATE || (o->kind == JOINED_OR_SEP && *value == 0)) {
            if (i + 1 >= argc) return 0; /* missing value: the Python driver reports it */
            value = argv[++i];
        }
        if (strcmp(o->name, "-o") == 0) {
            if (++outputs > 1 || strcmp(value, "-") == 0 || *value == 0) return 0;
            p->output = value;
        } else if (strcmp(o->name, "-MF") == 0) {
            p->has_mf = 1;
        } else if (strcmp(o->name, "-MT") == 0 || strcmp(o->name, "-MQ") == 0) {
            p->has_mt = 1;
        }
    }
    if (!p->compile || inputs != 1 || !is_source(p->input)) return 0;
    return 1;
}

/* ---- the object scan (adcc/driver/objfile.py: native_mentions_enzyme) --------------------- */

static const char ENZYME[] = "__enzyme_";
#define ENZYME_LEN (sizeof ENZYME - 1)

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int mentions(const unsigned char *d, uint64_t from, uint64_t to) {
    return to > from && memmem(d + from, (size_t)(to - from), ENZYME, ENZYME_LEN) != NULL;
}

/* Whether an object's native part (outside .llvm.lto) names __enzyme_. Any doubt answers 1:
 * the Python driver then decides (and it is the reference). */
static int native_mentions_enzyme(const unsigned char *d, uint64_t n) {
    if (!mentions(d, 0, n)) return 0;
    if (n < 64 || memcmp(d, "\177ELF", 4) != 0 || d[4] != 2 || d[5] != 1) return 1;
    uint64_t shoff = rd64(d + 0x28);
    uint64_t shentsize = rd16(d + 0x3A), shnum = rd16(d + 0x3C), shstrndx = rd16(d + 0x3E);
    if (shoff == 0 || shentsize < 40 || shoff > n || shnum * shentsize > n - shoff || shstrndx >= shnum) return 1;
    const unsigned char *strhdr = d + shoff + shstrndx * shentsize;
    uint64_t str_off = rd64(strhdr + 24), str_size = rd64(strhdr + 32);
    if (str_off > n || str_size > n - str_off) return 1;
    int found = 0;
    uint64_t lto_off = 0, lto_size = 0;
    for (uint64_t i = 0; i < shnum; i++) {
        const unsigned char *h = d + shoff + i * shentsize;
        uint64_t name = rd32(h);
        static const char LTO[] = ".llvm.lto";
        if (name + sizeof LTO > str_size || memcmp(d + str_off + name, LTO, sizeof LTO) != 0) continue;
        found = 1; /* the last one wins, as in objfile.sections */
        lto_off = rd64(h + 24);
        lto_size = rd32(h + 4) == 8 ? 0 : rd64(h + 32); /* SHT_NOBITS has no bytes */
    }
    if (!found) return 1;
    uint64_t lo = lto_off < n ? lto_off : n;
    uint64_t hi = lto_size <= n - lo ? lo + lto_size : n;
    return mentions(d, 0, lo) || mentions(d, hi, n);
}

/* Whether the source file itself names the Enzyme API (objfile.py: source_mentions_enzyme):
 * such a unit almost always calls it, and compiling it with clang first would be thrown away.
 * A mention in a comment only costs the AD pipeline's compile; no mention proves nothing (a
 * header may call it), so the object is still scanned. Unreadable: 0 (clang reports it). */
static int source_mentions_enzyme(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    int result = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            result = memmem(map, (size_t)st.st_size, ENZYME, ENZYME_LEN) != NULL;
            munmap(map, (size_t)st.st_size);
        }
    }
    close(fd);
    return result;
}

/* 1: the object needs the AD pipeline; 0: it does not, or there is no object to read
 * (objfile.needs_ad answers False when the file cannot be read). */
static int needs_ad(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    int result = 0;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            result = 1; /* cannot tell: let the Python driver look */
        } else {
            result = native_mentions_enzyme(map, (uint64_t)st.st_size);
            munmap(map, (size_t)st.st_size);
        }
    }
    close(fd);
    return result;
}

/* ---- the embedded bitcode, compressed (objfile.py: compress_embedded_bitcode) --------------- */

#ifdef ADCC_ZLIB
#include <zlib.h>

static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- does the bitcode use a floating-point type? (bitstream.py: has_float) ------------------ */

/* Just enough of LLVM's bitstream to read the module's type table (TYPE_BLOCK_NEW, inside
 * MODULE_BLOCK; every other block skipped by its length): a unit without any floating-point
 * type leaves its bitcode out (objfile.py: compress_embedded_bitcode). Anything unexpected:
 * "cannot tell", and the bitcode stays. */
#define BC_MAX_ABBREVS 64
#define BC_MAX_OPS 32
struct bc_bits { const unsigned char *d; uint64_t pos, end; int bad; };
struct bc_abbrev { int n; unsigned char enc[BC_MAX_OPS]; uint64_t val[BC_MAX_OPS]; };
struct bc_level { unsigned width; int nabbrev; struct bc_abbrev abbrevs[BC_MAX_ABBREVS]; };

static uint64_t bc_fixed(struct bc_bits *b, uint64_t w) {
    if (w == 0) return 0;
    if (w > 64 || w > b->end - b->pos) {
        b->bad = 1;
        b->pos = b->end;
        return 0;
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < w; i++, b->pos++) v |= (uint64_t)(b->d[b->pos >> 3] >> (b->pos & 7) & 1) << i;
    return v;
}

static uint64_t bc_vbr(struct bc_bits *b, uint64_t w) {
    if (w < 2 || w > 32) {
        b->bad = 1;
        return 0;
    }
    uint64_t v = 0, high = (uint64_t)1 << (w - 1);
    for (unsigned shift = 0; !b->bad && shift <= 64; shift += (unsigned)w - 1) {
        uint64_t chunk = bc_fixed(b, w);
        if (shift < 64) v |= (chunk & (high - 1)) << shift;
        if (!(chunk & high)) return v;
    }
    b->bad = 1;
    return 0;
}

static void bc_align32(struct bc_bits *b) {
    b->pos = (b->pos + 31) & ~(uint64_t)31;
    if (b->pos > b->end) {
        b->bad = 1;
        b->pos = b->end;
    }
}

static uint64_t bc_scalar(struct bc_bits *b, int enc, uint64_t val) {
    switch (enc) {
    case 0: return val;                 /* literal */
    case 1: return bc_fixed(b, val);    /* fixed */
    case 2: return bc_vbr(b, val);      /* vbr */
    case 4: return bc_fixed(b, 6);      /* char6 */
    }
    b->bad = 1;
    return 0;
}

static void bc_define_abbrev(struct bc_bits *b, struct bc_abbrev *a) {
    uint64_t n = bc_vbr(b, 5);
    if (n > BC_MAX_OPS) b->bad = 1;
    a->n = b->bad ? 0 : (int)n;
    for (int k = 0; k < a->n && !b->bad; k++) {
        if (bc_fixed(b, 1)) {
            a->enc[k] = 0;
            a->val[k] = bc_vbr(b, 8);
            continue;
        }
        uint64_t e = bc_fixed(b, 3);
        if (e < 1 || e > 5) b->bad = 1;
        a->enc[k] = (unsigned char)e;
        a->val[k] = e == 1 || e == 2 ? bc_vbr(b, 5) : 0;
    }
}

/* The code (first operand) of one record read by its abbreviation. */
static uint64_t bc_abbreviated(struct bc_bits *b, const struct bc_abbrev *a) {
    uint64_t first = 0;
    int have = 0;
    for (int k = 0; k < a->n && !b->bad; k++) {
        uint64_t v = 0;
        if (a->enc[k] == 3) { /* array: a length, then elements encoded as the next operand says */
            if (k + 1 >= a->n) {
                b->bad = 1;
                break;
            }
            uint64_t len = bc_vbr(b, 6);
            for (uint64_t i = 0; i < len && !b->bad; i++) {
                v = bc_scalar(b, a->enc[k + 1], a->val[k + 1]);
                if (!have) first = v, have = 1;
            }
            k++;
            continue;
        }
        if (a->enc[k] == 5) { /* blob: a length, 32-bit aligned bytes */
            uint64_t len = bc_vbr(b, 6);
            bc_align32(b);
            if (len > (b->end - b->pos) / 8) b->bad = 1;
            else b->pos += len * 8;
            bc_align32(b);
        } else {
            v = bc_scalar(b, a->enc[k], a->val[k]);
        }
        if (!have) first = v, have = 1;
    }
    if (!have) b->bad = 1;
    return first;
}

static int bc_float_code(uint64_t code) { /* TYPE_CODE_FLOAT, DOUBLE, HALF, X86_FP80, FP128, PPC_FP128, BFLOAT */
    return code == 3 || code == 4 || code == 10 || code == 13 || code == 14 || code == 15 || code == 23;
}

/* 1: the module uses a floating-point type; 0: it does not; -1: cannot tell. */
static int bitcode_has_float(const unsigned char *d, uint64_t n) {
    if (n >= 20 && d[0] == 0xDE && d[1] == 0xC0 && d[2] == 0x17 && d[3] == 0x0B) { /* wrapper */
        uint64_t off = rd32(d + 8), size = rd32(d + 12);
        if (off > n || size > n - off) return -1;
        d += off;
        n = size;
    }
    if (n < 4 || memcmp(d, "BC\xC0\xDE", 4) != 0) return -1;
    static struct bc_level level[3]; /* the top level, MODULE_BLOCK, TYPE_BLOCK_NEW */
    struct bc_bits b = {d, 32, n * 8, 0};
    int depth = 0, found = 0;
    level[0].width = 2;
    level[0].nabbrev = 0;
    while (!b.bad && level[depth].width <= b.end - b.pos) {
        struct bc_level *l = &level[depth];
        uint64_t id = bc_fixed(&b, l->width);
        if (id == 0) { /* END_BLOCK */
            bc_align32(&b);
            if (depth == 0) return -1;
            if (depth == 2) return b.bad ? -1 : found;
            depth--;
        } else if (id == 1) { /* ENTER_SUBBLOCK */
            uint64_t block = bc_vbr(&b, 8), width = bc_vbr(&b, 4);
            bc_align32(&b);
            uint64_t words = bc_fixed(&b, 32);
            if ((depth == 0 && block == 8) || (depth == 1 && block == 17)) {
                if (width < 1 || width > 32) return -1;
                depth++;
                level[depth].width = (unsigned)width;
                level[depth].nabbrev = 0;
            } else if (words > (b.end - b.pos) / 32) {
                return -1;
            } else {
                b.pos += words * 32;
            }
        } else if (id == 2) { /* DEFINE_ABBREV */
            if (l->nabbrev >= BC_MAX_ABBREVS) return -1;
            bc_define_abbrev(&b, &l->abbrevs[l->nabbrev++]);
        } else if (id == 3) { /* UNABBREV_RECORD */
            uint64_t code = bc_vbr(&b, 6), ops = bc_vbr(&b, 6);
            for (uint64_t i = 0; i < ops && !b.bad; i++) bc_vbr(&b, 6);
            if (depth == 2 && bc_float_code(code)) found = 1;
        } else { /* a BLOCKINFO abbreviation is not used in these two blocks */
            if (id - 4 >= (uint64_t)l->nabbrev) return -1;
            uint64_t code = bc_abbreviated(&b, &l->abbrevs[id - 4]);
            if (depth == 2 && bc_float_code(code)) found = 1;
        }
    }
    return -1;
}

/* The new bytes of an object whose .llvm.lto section is zlib-compressed (SHF_COMPRESSED, as
 * objcopy --compress-sections writes it; SHF_EXCLUDE kept) and renamed .adcc.bc, and whose
 * later sections move up by a multiple of their alignment; NULL when there is nothing to
 * gain. *out_n: its size. A module without any floating-point type leaves only an empty
 * .adcc.nb section (the link step refuses to differentiate through it, naming the object). */
static unsigned char *compressed_object(const unsigned char *d, uint64_t n, uint64_t *out_n) {
    if (n < 64 || memcmp(d, "\177ELF", 4) != 0 || d[4] != 2 || d[5] != 1) return NULL;
    uint64_t shoff = rd64(d + 0x28);
    uint64_t shentsize = rd16(d + 0x3A), shnum = rd16(d + 0x3C), shstrndx = rd16(d + 0x3E);
    if (shoff == 0 || shentsize < 64 || shoff > n || shnum * shentsize > n - shoff || shstrndx >= shnum) return NULL;
    const unsigned char *strhdr = d + shoff + shstrndx * shentsize;
    uint64_t str_off = rd64(strhdr + 24), str_size = rd64(strhdr + 32);
    if (str_off > n || str_size > n - str_off) return NULL;
    static const char LTO[] = ".llvm.lto";
    int64_t lto = -1;
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t name = rd32(d + shoff + i * shentsize);
        if (name + sizeof LTO <= str_size && memcmp(d + str_off + name, LTO, sizeof LTO) == 0) lto = (int64_t)i;
    }
    if (lto < 0) return NULL;
    const unsigned char *h = d + shoff + (uint64_t)lto * shentsize;
    uint64_t lto_name = rd32(h);
    uint64_t flags = rd64(h + 8), off = rd64(h + 24), size = rd64(h + 32), align = rd64(h + 48);
    if ((flags & 0x800) || size == 0 || off > n || size > n - off) return NULL;
    uint64_t old_end = off + size, start = (off + 7) & ~(uint64_t)7, step = 8;
    for (uint64_t i = 0; i < shnum; i++) {
        const unsigned char *o = d + shoff + i * shentsize;
        uint64_t type = rd32(o + 4), soff = rd64(o + 24), salign = rd64(o + 48);
        if ((int64_t)i != lto && soff > off && soff < old_end) return NULL;
        uint64_t other_name = rd32(o); /* renamed in place: no other name may share those bytes */
        if ((int64_t)i != lto && other_name >= lto_name && other_name <= lto_name + sizeof LTO - 1) return NULL;
        if (type != 8 && soff >= old_end && salign > step) step = salign;
    }
    int omit = bitcode_has_float(d + off, size) == 0;
    uLongf clen = omit ? 0 : compressBound((uLong)size);
    unsigned char *payload = malloc(24 + clen);
    if (!payload) return NULL;
    wr32(payload, 1); /* ELFCOMPRESS_ZLIB */
    wr32(payload + 4, 0);
    wr64(payload + 8, size);
    wr64(payload + 16, align ? align : 1);
    if (!omit && (compress2(payload + 24, &clen, d + off, (uLong)size, 1) != Z_OK || old_end < start + 24 + clen)) {
        free(payload);
        return NULL;
    }
    uint64_t plen = omit ? 0 : 24 + clen, shift = (old_end - start - plen) / step * step;
    unsigned char *out = shift ? calloc(1, n - shift) : NULL;
    if (!out) {
        free(payload);
        return NULL;
    }
    memcpy(out, d, off);
    memcpy(out + start, payload, plen);
    memcpy(out + old_end - shift, d + old_end, n - old_end);
    free(payload);
    uint64_t new_shoff = shoff >= old_end ? shoff - shift : shoff;
    wr64(out + 0x28, new_shoff);
    /* renamed .adcc.bc (same length with its NUL): binutils' LTO plugin reads any .llvm.lto */
    static const char PACKED[] = ".adcc.bc", OMITTED[] = ".adcc.nb";
    memcpy(out + (str_off >= old_end ? str_off - shift : str_off) + lto_name, omit ? OMITTED : PACKED, sizeof PACKED);
    for (uint64_t i = 0; i < shnum; i++) {
        unsigned char *q = out + new_shoff + i * shentsize;
        if ((int64_t)i == lto) {
            wr32(q + 4, 1); /* SHT_PROGBITS */
            wr64(q + 8, omit ? flags : flags | 0x800); /* SHF_COMPRESSED */
            wr64(q + 24, start);
            wr64(q + 32, plen);
            wr64(q + 48, omit ? 1 : 8);
        } else if (rd32(q + 4) != 8 && rd64(q + 24) >= old_end) {
            wr64(q + 24, rd64(q + 24) - shift);
        }
    }
    *out_n = n - shift;
    return out;
}

/* Rewrite the object at `path` with its bitcode compressed (through a temp file and a rename;
 * on any failure it stays as clang wrote it, which is as valid). */
static void compress_object(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    unsigned char *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return;
    uint64_t n = 0;
    unsigned char *out = compressed_object(map, (uint64_t)st.st_size, &n);
    munmap(map, (size_t)st.st_size);
    if (!out) return;
    size_t len = strlen(path) + 64;
    char *tmp = malloc(len);
    if (tmp) {
        snprintf(tmp, len, "%s.adcc-%ld.z.tmp", path, (long)getpid());
        int wfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        int ok = wfd >= 0;
        for (uint64_t done = 0; ok && done < n;) {
            ssize_t w = write(wfd, out + done, (size_t)(n - done));
            if (w <= 0) ok = 0;
            else done += (uint64_t)w;
        }
        if (wfd >= 0 && close(wfd) != 0) ok = 0;
        if (!ok || rename(tmp, path) != 0) unlink(tmp);
        free(tmp);
    }
    free(out);
}
#else
static void compress_object(const char *path) { (void)path; } /* built without zlib */
#endif

/* ---- main ---------------------------------------------------------------------------------- */

static pid_t child;
static volatile sig_atomic_t got_signal;

/* SIGINT/SIGTERM/SIGHUP: on to clang (which removes what it was writing and leaves an earlier
 * output as it was); the launcher then dies of the same signal, as clang does. */
static void on_signal(int sig) {
    got_signal = sig;
    if (child > 0) kill(child, sig);
}

static int same_file_state(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size
           && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static const char *front_end(void) {
    const char *env = getenv(mode == MODE_CXX ? "ADCC_CLANGXX" : "ADCC_CLANG");
    if (env && *env) return env;
    const char *suffix = getenv("ADCC_LLVM_SUFFIX");
    if (!suffix) suffix = "-22";
    static char name[256];
    snprintf(name, sizeof name, "%s%s", mode == MODE_CXX ? "clang++" : "clang", suffix);
    return name;
}

/* Enzyme's attribute spellings as annotations: the same list as toolchain.ATTRIBUTE_MACROS */
static const char *const ATTRIBUTE_MACROS[] = {
    "-Denzyme_inactive=annotate(\"enzyme_inactive\")",
    "-Denzyme_inactive_noblock=annotate(\"enzyme_inactive_noblock\")",
    "-Denzyme_shouldrecompute=annotate(\"enzyme_shouldrecompute\")",
    "-Denzyme_sparse_accumulate=annotate(\"enzyme_sparse_accumulate\")",
    "-Denzyme_function_like(name)=annotate(\"enzyme_function_like\", name)",
    "-Denzyme_shadow(name)=annotate(\"enzyme_shadow\", &(name))",
    "-Denzyme_elementwise_read=annotate(\"enzyme_elementwise_read\")",
    "-Denzyme_notypeanalysis=annotate(\"enzyme_notypeanalysis\")",
    "-Denzyme_no_escaping_allocation=annotate(\"enzyme_no_escaping_allocation\")",
    NULL,
};
#define NATTRIBUTE_MACROS (sizeof ATTRIBUTE_MACROS / sizeof ATTRIBUTE_MACROS[0] - 1)

#ifndef ADCC_INCLUDE_DIR /* adcc/include, baked in by `make setup` (launchers.build_native) */
#error "build with -DADCC_INCLUDE_DIR=\"<package>/adcc/include\""
#endif

int main(int argc, char **argv) {
    find_self(argc > 0 ? argv[0] : PROGRAM[0]);
    if (argc < 1) delegate(argv);
    const char *native = getenv("ADCC_NATIVE_LAUNCHER");
    struct plan p;
    if (mode == MODE_FORTRAN || (native && strcmp(native, "0") == 0) || !plan_fast_path(argc, argv, &p))
        delegate(argv);
    if (source_mentions_enzyme(p.input)) delegate(argv); /* the AD pipeline, without a first compile */

    char *target = p.output ? (char *)p.output : with_suffix(base_name(p.input), ".o");
    if (!target) delegate(argv);
    struct stat before, after;
    int existed = stat(target, &before) == 0;
    if (existed && !S_ISREG(before.st_mode)) delegate(argv); /* /dev/null, a directory, ... */

    /* clang argv: the user's words, then what the Python driver adds */
    char **cmd = calloc((size_t)argc + 14 + NATTRIBUTE_MACROS, sizeof *cmd);
    if (!cmd) delegate(argv);
    int n = 0;
    cmd[n++] = (char *)front_end();
    for (int i = 1; i < argc; i++) cmd[n++] = argv[i];
    if (p.deps) { /* Driver.dependency_args: the .d is named after, and names, the real output */
        if (!p.has_mf) {
            cmd[n++] = "-MF";
            cmd[n++] = with_suffix(p.output ? p.output : base_name(p.input), ".d");
            if (!cmd[n - 1]) delegate(argv);
        }
        if (!p.has_mt) {
            cmd[n++] = "-MQ";
            cmd[n++] = target;
        }
    }
    cmd[n++] = "-flto=thin"; /* main.py: ThinLTO's pre-link bitcode, and clang's own machine code */
    cmd[n++] = "-ffat-lto-objects";
    cmd[n++] = "-idirafter"; /* toolchain.enzyme_header_args: <enzyme/enzyme>, Enzyme's attributes */
    cmd[n++] = ADCC_INCLUDE_DIR;
    for (const char *const *m = ATTRIBUTE_MACROS; *m; m++) cmd[n++] = (char *)*m;
    if (!p.output) {
        cmd[n++] = "-o";
        cmd[n++] = target;
    }
    cmd[n] = NULL;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    static const int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
    sigset_t block, saved;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++) {
        sigaction(SIGNALS[i], &sa, NULL);
        sigaddset(&block, SIGNALS[i]);
    }
    /* no signal between the spawn and `child` being set: it would not reach clang */
    sigprocmask(SIG_BLOCK, &block, &saved);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t dfl;
    sigemptyset(&dfl);
    for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++) sigaddset(&dfl, SIGNALS[i]);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setsigmask(&attr, &saved);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int err = posix_spawnp(&child, cmd[0], NULL, &attr, cmd, environ);
    posix_spawnattr_destroy(&attr);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (err != 0) { /* no front end: the Python driver says what to install */
        child = 0;
        delegate(argv);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            perror(PROGRAM[mode]);
            return 1;
        }
    child = 0;
    if (got_signal || WIFSIGNALED(status)) { /* interrupted, or clang died of a signal */
        int sig = got_signal ? got_signal : WTERMSIG(status);
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (rc != 0) return rc; /* clang printed why and removed the output, as it does alone */
    /* No object (e.g. -Xclang -fsyntax-only), or the one from before, untouched (clang always
     * writes a new file and renames it): nothing to scan, as for the Python driver's temp. */
    if (stat(target, &after) != 0) return 0;
    if (existed && same_file_state(&before, &after)) return 0;
    if (!needs_ad(target)) {
        compress_object(target);
        return 0;
    }
    /* The unit calls the Enzyme API: the Python driver redoes it through the AD pipeline, with
     * no output in place meanwhile (a failing AD compile leaves none, as a failing clang). Its
     * warnings were printed by this compile: --adcc-fast-path-done keeps the rerun quiet and
     * sends it straight to the AD pipeline. */
    unlink(target);
    int argc2 = 0;
    while (argv[argc2]) argc2++;
    char **argv2 = calloc((size_t)argc2 + 2, sizeof *argv2);
    if (!argv2) delegate(argv);
    for (int i = 0; i < argc2; i++) argv2[i] = argv[i];
    argv2[argc2] = "--adcc-fast-path-done";
    delegate(argv2);
}
