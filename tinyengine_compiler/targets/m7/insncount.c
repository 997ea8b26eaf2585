/*
 * insncount.c - QEMU TCG plugin: retired guest instructions, reported at BENCH_MARK(n)
 *
 * Counts every guest instruction.  When the guest executes the Thumb-2 hint `dbg #n`
 * (bytes AF F3 Fn 80; a NOP on Cortex-M silicon) it prints "mark <n> <count>", where count
 * is the number of instructions retired before that dbg.  At exit it prints "total <count>".
 *
 *   build:  gcc -shared -fPIC -O2 -o libinsncount.so insncount.c     (build_plugin() does this)
 *   use:    qemu-system-arm ... -plugin ./libinsncount.so,out=FILE[,mode=tb|insn]
 *
 * mode=tb (default) adds a whole translation block's length when the block starts, which is
 * fast and exact as long as blocks run to their end; mode=insn adds one per instruction, which
 * is slower and exact even when an exception leaves a block early.  Markers are exact in both.
 *
 * funcs=FILE (mode=tb only) also counts instructions per function.  FILE has one line a
 * function, "<start address hex> <size> <name>" (from `nm -S`).  Before each "mark" line and at
 * exit, the plugin prints "func <name> <count>" for every function that ran since the previous
 * mark.  A block is charged to the function holding its first instruction, whole, when it
 * starts: a marker's own block is charged before the mark, so a function that contains markers
 * (the generated step) is off by at most a block per mark; the functions it calls are exact.
 *
 * QEMU 7.2 (Debian 12) ships no qemu-plugin.h, so this file declares the few v1 API calls it
 * uses itself; they match the symbols qemu-system-arm 7.2 exports.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of the QEMU plugin API (version 1) used here ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
/* ------------------------------------------------------------------ */

/* mps2 boards have one vCPU, so a plain counter needs no atomics. */
static uint64_t g_retired;
static bool g_per_insn;
static FILE *g_out;

static void emit(const char *line)
{
    if (g_out != NULL) {
        fputs(line, g_out);
        fflush(g_out);   /* the marks survive a guest that is killed by a timeout */
    } else {
        qemu_plugin_outs(line);
    }
}

/* funcs=FILE: the functions, sorted by start address, and what each has run since the last mark.
 * Plain globals, no locks: the mps2 boards have one vCPU. */
#define MAX_FUNCS 4096
#define MAX_NAME 64
static struct func {
    uint64_t start, end;
    char name[MAX_NAME];
    uint64_t count;
} g_funcs[MAX_FUNCS];
static size_t g_n_funcs;
static size_t g_ran[MAX_FUNCS];   /* indices of the functions with count > 0, in first-run order */
static size_t g_n_ran;

static int by_start(const void *a, const void *b)
{
    const struct func *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Line by line: a name longer than MAX_NAME - 1 is cut (two such names may then read alike),
 * blank lines are skipped; false when the file is missing, a line is malformed or longer than
 * the buffer, or there are more than MAX_FUNCS functions. */
static bool load_funcs(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    char line[512];
    bool ok = true;
    while (ok && fgets(line, sizeof line, f) != NULL) {
        unsigned long long start, size;
        char name[MAX_NAME];
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        ok = g_n_funcs < MAX_FUNCS && sscanf(line, "%llx %llu %63s", &start, &size, name) == 3;
        if (ok) {
            struct func *fn = &g_funcs[g_n_funcs++];
            fn->start = start & ~1ull;   /* a Thumb symbol's value has bit 0 set */
            fn->end = fn->start + size;
            memcpy(fn->name, name, sizeof name);
        }
    }
    fclose(f);
    qsort(g_funcs, g_n_funcs, sizeof g_funcs[0], by_start);
    return ok;
}

/* The function holding `pc`, or -1. */
static long find_func(uint64_t pc)
{
    size_t lo = 0, hi = g_n_funcs;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (g_funcs[mid].end <= pc) lo = mid + 1; else hi = mid;
    }
    return lo < g_n_funcs && g_funcs[lo].start <= pc ? (long)lo : -1;
}

/* The block's userdata packs (function index << 16) | its instruction count. */
static void on_func_block(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    const uintptr_t u = (uintptr_t)userdata;
    struct func *fn = &g_funcs[u >> 16];
    if (fn->count == 0) g_ran[g_n_ran++] = (size_t)(fn - g_funcs);
    fn->count += u & 0xFFFFu;
}

static void flush_funcs(void)
{
    char line[MAX_NAME + 48];
    for (size_t i = 0; i < g_n_ran; i++) {
        struct func *fn = &g_funcs[g_ran[i]];
        snprintf(line, sizeof line, "func %s %" PRIu64 "\n", fn->name, fn->count);
        emit(line);
        fn->count = 0;
    }
    g_n_ran = 0;
}

/* The marker's userdata packs (n << 16) | (instructions of its block not yet retired). */
static void on_marker(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    const uintptr_t u = (uintptr_t)userdata;
    char line[64];
    flush_funcs();
    snprintf(line, sizeof line, "mark %u %" PRIu64 "\n", (unsigned)(u >> 16), g_retired - (u & 0xFFFFu));
    emit(line);
}

/* T32 `dbg #n`: first halfword 0xF3AF, second 0x80F0 | n, stored little-endian. */
static bool is_dbg(const uint8_t *b) { return b[0] == 0xAF && b[1] == 0xF3 && (b[2] & 0xF0) == 0xF0 && b[3] == 0x80; }

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    if (!g_per_insn) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &g_retired, n);
    const long fn = g_n_funcs > 0 ? find_func(qemu_plugin_tb_vaddr(tb)) : -1;
    if (fn >= 0)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_func_block, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(((uintptr_t)fn << 16) | n));
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (g_per_insn) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_retired, 1);
        /* ">= 4": at a page end QEMU 7.2 may report a 32-bit insn with the next halfword appended. */
        if (qemu_plugin_insn_size(insn) < 4 || !is_dbg(qemu_plugin_insn_data(insn))) continue;
        /* tb mode counted the whole block on entry, so insns i..n-1 have not retired yet;
           insn mode runs this callback before the insn's own inline add. */
        const uintptr_t not_retired = g_per_insn ? 0u : (uintptr_t)(n - i);
        const uint8_t *b = qemu_plugin_insn_data(insn);
        const uintptr_t userdata = ((uintptr_t)(b[2] & 0x0Fu) << 16) | not_retired;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, (void *)userdata);
    }
}

static void on_atexit(qemu_plugin_id_t id, void *unused)
{
    (void)id;
    (void)unused;
    char line[48];
    flush_funcs();
    snprintf(line, sizeof line, "total %" PRIu64 "\n", g_retired);
    emit(line);
    if (g_out != NULL) fclose(g_out);
    g_out = NULL;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "mode=insn") == 0) {
            g_per_insn = true;
        } else if (strcmp(argv[i], "mode=tb") == 0) {
            g_per_insn = false;
        } else if (strncmp(argv[i], "funcs=", 6) == 0) {
            if (!load_funcs(argv[i] + 6)) {
                fprintf(stderr, "insncount: cannot read the function list '%s'\n", argv[i] + 6);
                return -1;
            }
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            g_out = fopen(argv[i] + 4, "w");
            if (g_out == NULL) return -1;
        } else {
            fprintf(stderr, "insncount: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (g_per_insn && g_n_funcs > 0) {
        fprintf(stderr, "insncount: funcs= needs mode=tb\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
    return 0;
}
