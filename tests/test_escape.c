/* test_escape.c - escape_display and escape_json against hostile text.
 *
 * The expected outputs come from a reference written here a different way
 * (decode the code point first, then judge it by its value, where the
 * library judges byte ranges), and every output is also checked for what
 * matters on its own: display output holds no control, no C1 or
 * reordering character, is valid UTF-8 and unescapes back to the input;
 * JSON output parses (a strict parser here, and python3's json module when
 * python3 is there) to the input with each invalid byte as U+FFFD.
 *
 * Usage: test_escape [seed]
 */
#include "check.h"
#include "escape.h"

#include <inttypes.h>

enum {
    MAX_IN = 512,             /* bytes of input a case may have */
    MAX_OUT = 6 * MAX_IN + 3, /* bytes of output it may need */
    RANDOM_CASES = 100000,
    PYTHON_EVERY = 10, /* one random case in this many to python */
};

static long checks; /* inputs run through check_input */

/* ---- reference --------------------------------------------------------- */

/* Returns: the bytes of the well-formed UTF-8 character at p (*cp set), or
 * 0 when p[0] starts none. */
static int ref_decode(const unsigned char *p, uint32_t *cp)
{
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    int n;

    if (p[0] < 0x80)
        n = 1;
    else if ((p[0] & 0xe0) == 0xc0)
        n = 2;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4;
    else
        return 0;
    uint32_t c = n == 1 ? p[0] : p[0] & (0xffu >> (n + 1));
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3fu);
    }
    if (c < shortest[n] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        return 0;
    *cp = c;
    return n;
}

static int ref_hidden(uint32_t cp)
{
    static const struct {
        uint32_t lo, hi;
    } r[] = {
        {0x80, 0x9f},     {0xad, 0xad},     {0x61c, 0x61c},
        {0x200b, 0x200d}, {0x200e, 0x200f}, {0x2028, 0x2029},
        {0x202a, 0x202e}, {0x2066, 0x2069}, {0xfeff, 0xfeff},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return 1;
    return 0;
}

static int utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* What one unit of input (a character, or a byte of invalid UTF-8) must
 * become. */
typedef struct {
    char text[16];
    size_t len;
} piece;

/* Returns: the number of pieces s is cut into, written to pc. */
static size_t ref_pieces(const char *s, int json, piece *pc)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;

    for (; *p; k++) {
        char *t = pc[k].text;
        uint32_t cp;
        int n = ref_decode(p, &cp);
        if (n == 0) {
            if (json)
                snprintf(t, sizeof pc[k].text, "\\ufffd");
            else
                snprintf(t, sizeof pc[k].text, "\\x%02x", (unsigned)*p);
            n = 1;
        } else if (json && (cp == '"' || cp == '\\')) {
            snprintf(t, sizeof pc[k].text, "\\%c", (char)cp);
        } else if (json && (cp < 0x20 || cp == 0x7f || ref_hidden(cp))) {
            snprintf(t, sizeof pc[k].text, "\\u%04x", (unsigned)cp);
        } else if (!json && (cp < 0x20 || cp == 0x7f || cp == '\\')) {
            switch (cp) {
            case '\\': snprintf(t, sizeof pc[k].text, "\\\\"); break;
            case '\n': snprintf(t, sizeof pc[k].text, "\\n"); break;
            case '\t': snprintf(t, sizeof pc[k].text, "\\t"); break;
            case '\r': snprintf(t, sizeof pc[k].text, "\\r"); break;
            case 0x1b: snprintf(t, sizeof pc[k].text, "\\e"); break;
            default: snprintf(t, sizeof pc[k].text, "\\x%02x", (unsigned)cp);
            }
        } else if (!json && ref_hidden(cp)) {
            snprintf(t, sizeof pc[k].text, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(t, p, (size_t)n);
            t[n] = '\0';
        }
        pc[k].len = strlen(t);
        p += n;
    }
    return k;
}

/* The output the pieces must give in size bytes. */
static size_t ref_cut(const piece *pc, size_t npc, int json, size_t size,
                      char *out)
{
    size_t len = 0, tail = json ? 1 : 0;

    if (size < 2 * tail + 1) {
        out[0] = '\0';
        return 0;
    }
    if (json)
        out[len++] = '"';
    for (size_t i = 0; i < npc && len + pc[i].len + tail + 1 <= size; i++) {
        memcpy(out + len, pc[i].text, pc[i].len);
        len += pc[i].len;
    }
    if (json)
        out[len++] = '"';
    out[len] = '\0';
    return len;
}

/* s with each byte of invalid UTF-8 as U+FFFD: what the JSON must hold. */
static size_t ref_json_value(const char *s, char *v)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = 0;

    while (*p) {
        uint32_t cp;
        int n = ref_decode(p, &cp);
        if (n == 0) {
            cp = 0xfffd;
            n = 1;
        }
        len += (size_t)utf8_put(v + len, cp);
        p += n;
    }
    v[len] = '\0';
    return len;
}

/* ---- checks on the output alone ---------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads n lower-case hex digits (escape_* writes no others).
 * Returns: the value, or -1. */
static long lower_hex(const char *d, int n)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
            return -1;
        v = v << 4 | hexval(d[i]);
    }
    return v;
}

/* Display output d undone. Also checks that d is safe to show: no control
 * byte, valid UTF-8, no C1 or hidden character, and each escape complete
 * and of the kind the contract names.
 * Returns: the length of the original in orig, or -1 (reason in *why). */
static long display_undo(const char *d, char *orig, const char **why)
{
    const unsigned char *p = (const unsigned char *)d;
    long len = 0;

    while (*p) {
        uint32_t cp;
        int n = ref_decode(p, &cp);
        if (n == 0)
            return *why = "invalid UTF-8", -1;
        if (cp < 0x20 || cp == 0x7f)
            return *why = "a control byte", -1;
        if (ref_hidden(cp))
            return *why = "a C1 or hidden character", -1;
        if (cp != '\\') {
            memcpy(orig + len, p, (size_t)n);
            len += n;
            p += n;
            continue;
        }
        long v;
        switch (p[1]) {
        case '\\':
            orig[len++] = '\\';
            p += 2;
            break;
        case 'n':
            orig[len++] = '\n';
            p += 2;
            break;
        case 't':
            orig[len++] = '\t';
            p += 2;
            break;
        case 'r':
            orig[len++] = '\r';
            p += 2;
            break;
        case 'e':
            orig[len++] = 0x1b;
            p += 2;
            break;
        case 'x':
            if ((v = lower_hex((const char *)p + 2, 2)) < 0)
                return *why = "a cut or bad \\x escape", -1;
            /* Only bytes that cannot be shown: a control, or not UTF-8. */
            if (v >= 0x20 && v < 0x7f)
                return *why = "printable ASCII as \\x", -1;
            orig[len++] = (char)v;
            p += 4;
            break;
        case 'u':
            if ((v = lower_hex((const char *)p + 2, 4)) < 0)
                return *why = "a cut or bad \\u escape", -1;
            if (!ref_hidden((uint32_t)v))
                return *why = "\\u of a character shown as it is", -1;
            len += utf8_put(orig + len, (uint32_t)v);
            p += 6;
            break;
        default: return *why = "a lone backslash", -1;
        }
    }
    orig[len] = '\0';
    return len;
}

/* A strict parser for a JSON text that must be one string literal
 * (RFC 8259): no raw control, valid UTF-8, \u surrogates only in pairs.
 * Returns: the length of the value written to v, or -1 (reason in *why). */
static long json_parse(const char *j, char *v, const char **why)
{
    const unsigned char *p = (const unsigned char *)j;
    long len = 0;

    if (*p++ != '"')
        return *why = "no opening quote", -1;
    for (;;) {
        uint32_t cp;
        if (*p == '\0')
            return *why = "no closing quote", -1;
        if (*p == '"') {
            if (p[1] != '\0')
                return *why = "bytes after the closing quote", -1;
            v[len] = '\0';
            return len;
        }
        if (*p < 0x20)
            return *why = "a raw control character", -1;
        if (*p != '\\') {
            int n = ref_decode(p, &cp);
            if (n == 0)
                return *why = "invalid UTF-8", -1;
            if (cp == 0x7f || ref_hidden(cp))
                return *why = "a raw DEL, C1 or hidden character", -1;
            memcpy(v + len, p, (size_t)n);
            len += n;
            p += n;
            continue;
        }
        const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *e = *++p ? strchr(simple, *p) : NULL;
        if (e && (e - simple) % 2 == 0) {
            v[len++] = e[1];
            p++;
            continue;
        }
        if (*p != 'u')
            return *why = "a bad escape", -1;
        long u = 0;
        for (int i = 1; i <= 4; i++) {
            if (hexval(p[i]) < 0)
                return *why = "a cut \\u escape", -1;
            u = u << 4 | hexval(p[i]);
        }
        p += 5;
        if (u >= 0xdc00 && u <= 0xdfff)
            return *why = "a lone low surrogate", -1;
        if (u >= 0xd800 && u <= 0xdbff) {
            long lo = 0;
            if (p[0] != '\\' || p[1] != 'u')
                return *why = "a lone high surrogate", -1;
            for (int i = 2; i <= 5; i++) {
                if (hexval(p[i]) < 0)
                    return *why = "a cut \\u escape", -1;
                lo = lo << 4 | hexval(p[i]);
            }
            if (lo < 0xdc00 || lo > 0xdfff)
                return *why = "a lone high surrogate", -1;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
        len += utf8_put(v + len, (uint32_t)u);
    }
}

/* ---- python3 as a second JSON judge ------------------------------------ */

/* Reads lines of hex fields:
 *   J <json> <input>   the JSON parses to the input decoded with each bad
 *                      byte as U+FFFD (python's own decoder, resuming at
 *                      the next byte, as the contract says)
 *   P <json> <full>    a cut literal: parses, to a prefix of full's value
 *   D <display>        strict UTF-8, no Cc character, none of the hidden
 */
static const char python_script[] =
    "import codecs, json, sys\n"
    "codecs.register_error('onebyte', lambda e: ('\\ufffd', e.start + 1))\n"
    "hidden = set(range(0x80, 0xa0)) | {0xad, 0x61c, 0xfeff}"
    " | set(range(0x200b, 0x2010)) | set(range(0x2028, 0x202f))"
    " | set(range(0x2066, 0x206a))\n"
    "n = 0\n"
    "for line in sys.stdin.buffer:\n"
    "    f = line.split()\n"
    "    b = [bytes.fromhex(x.decode()) if x != b'-' else b''"
    " for x in f[1:]]\n"
    "    try:\n"
    "        if f[0] == b'J':\n"
    "            v = json.loads(b[0].decode('utf-8'))\n"
    "            assert v == b[1].decode('utf-8', 'onebyte'), (v,)\n"
    "            v.encode('utf-8')\n"
    "        elif f[0] == b'P':\n"
    "            v = json.loads(b[0].decode('utf-8'))\n"
    "            assert json.loads(b[1].decode('utf-8')).startswith(v), (v,)\n"
    "        else:\n"
    "            d = b[0].decode('utf-8')\n"
    "            assert not any(ord(c) < 0x20 or ord(c) == 0x7f"
    " or ord(c) in hidden for c in d), (d,)\n"
    "    except Exception as e:\n"
    "        sys.stderr.write('python3 rejects %r: %r\\n' % (line, e))\n"
    "        sys.exit(1)\n"
    "    n += 1\n"
    "sys.stderr.write('python3: %d outputs checked\\n' % n)\n";

static FILE *python;

static void python_start(void)
{
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "python3 not found: JSON checked by the test's "
                        "own parser only\n");
        return;
    }
    /* Through the environment: the shell expands "$VAR" without parsing
     * it again, and no file is left behind when a check exits early. */
    CHECK_SYS(setenv("TEST_ESCAPE_PY", python_script, 1));
    signal(SIGPIPE, SIG_IGN); /* python's exit status says what failed */
    python = popen("python3 -c \"$TEST_ESCAPE_PY\"", "w");
    CHECK_NE(python, NULL);
}

/* One field: the bytes of s in hex, "-" for none. */
static void python_field(const char *s)
{
    fputs(*s ? " " : " -", python);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(python, "%02x", *p);
}

static void python_send(char kind, const char *a, const char *b)
{
    if (!python)
        return;
    fputc(kind, python);
    python_field(a);
    if (b)
        python_field(b);
    fputc('\n', python);
}

static void python_finish(void)
{
    if (!python)
        return;
    int status = pclose(python);
    python = NULL;
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
}

/* ---- running one input ------------------------------------------------- */

/* Prints s with every byte outside printable ASCII as <xx>: a failure
 * message must not itself do what the library failed to prevent. */
static void print_raw(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x20 && *p < 0x7f)
            fputc(*p, stderr);
        else
            fprintf(stderr, "<%02x>", *p);
}

static void fail_case(const char *s, const char *what, const char *out)
{
    fputs("input: \"", stderr);
    print_raw(s);
    fprintf(stderr, "\"\n%s: \"", what);
    print_raw(out);
    fputs("\"\n", stderr);
    exit(1);
}

/* escape_display / escape_json of s into exactly size bytes (malloc'd to
 * that size, so a write past it is a sanitizer error) must give the
 * reference's output; bytes past the NUL are not looked at. */
static void check_size(const char *s, int json, const piece *pc, size_t npc,
                       size_t size)
{
    static char want[MAX_OUT];
    char *out = malloc(size ? size : 1);
    CHECK_NE(out, NULL);
    memset(out, 'Z', size ? size : 1);

    size_t got =
        json ? escape_json(s, out, size) : escape_display(s, out, size);
    if (size == 0) {
        CHECK_EQ(got, 0);
        CHECK_EQ(out[0], 'Z'); /* nothing written */
        free(out);
        return;
    }
    size_t wlen = ref_cut(pc, npc, json, size, want);
    CHECK_NE(memchr(out, '\0', size), NULL);
    if (got != wlen || strlen(out) != got || strcmp(out, want) != 0) {
        fprintf(stderr, "size %zu, returned %zu, wanted \"", size, got);
        print_raw(want);
        fputs("\"\n", stderr);
        fail_case(s, json ? "escape_json" : "escape_display", out);
    }
    free(out);
}

/* Everything about one input: the exact output and size, every cut, and
 * the output's own properties. Cuts are tried at every size when all_cuts,
 * else at a few. */
static void check_input(const char *s, int all_cuts)
{
    static piece pc[MAX_IN];
    static char out[MAX_OUT], back[MAX_OUT], val[MAX_OUT], want[MAX_OUT];
    const char *why = "";
    size_t len = strlen(s);
    CHECK_LT(len, MAX_IN);
    checks++;

    for (int json = 0; json <= 1; json++) {
        size_t npc = ref_pieces(s, json, pc);
        size_t full = ref_cut(pc, npc, json, MAX_OUT, want);
        size_t need = json ? escape_json_size(s) : escape_display_size(s);
        if (need != full + 1) {
            fprintf(stderr, "size function says %zu, wanted %zu\n", need,
                    full + 1);
            fail_case(s, json ? "escape_json" : "escape_display", want);
        }
        if (all_cuts) {
            for (size_t size = 0; size <= full + 2; size++)
                check_size(s, json, pc, npc, size);
        } else {
            size_t sizes[] = {0, 1, 2, 3, full / 2, full, full + 1};
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
                check_size(s, json, pc, npc, sizes[i]);
        }
    }

    escape_display(s, out, sizeof out);
    long n = display_undo(out, back, &why);
    if (n < 0)
        fail_case(s, why, out);
    if ((size_t)n != len || memcmp(back, s, len) != 0)
        fail_case(s, "display output does not undo to the input", out);

    escape_json(s, out, sizeof out);
    n = json_parse(out, val, &why);
    if (n < 0)
        fail_case(s, why, out);
    ref_json_value(s, want);
    if (strcmp(val, want) != 0)
        fail_case(s, "JSON value is not the input", out);
}

/* Cut outputs also checked on their own, and handed to python. */
static void check_cuts_alone(const char *s)
{
    static char out[MAX_OUT], full[MAX_OUT], back[MAX_OUT], val[MAX_OUT];
    const char *why = "";

    escape_json(s, full, sizeof full);
    for (size_t size = 1; size <= escape_display_size(s); size++) {
        escape_display(s, out, size);
        long n = display_undo(out, back, &why);
        if (n < 0)
            fail_case(s, why, out);
        if (memcmp(back, s, (size_t)n) != 0)
            fail_case(s, "cut display output is no prefix of the input", out);
    }
    for (size_t size = 3; size <= escape_json_size(s); size++) {
        escape_json(s, out, size);
        if (json_parse(out, val, &why) < 0)
            fail_case(s, why, out);
        python_send('P', out, full);
    }
}

/* ---- the tests --------------------------------------------------------- */

struct expect {
    const char *in, *display, *json; /* json: without the quotes */
};

/* Each class of the contract, and the code points either side of each
 * boundary. */
static const struct expect table[] = {
    {"", "", ""},
    {"plain-name_1.png", "plain-name_1.png", "plain-name_1.png"},
    {" !~", " !~", " !~"},
    {"a\\b", "a\\\\b", "a\\\\b"},
    {"\\x41", "\\\\x41", "\\\\x41"}, /* a name may not fake an escape */
    {"say \"hi\"", "say \"hi\"", "say \\\"hi\\\""},
    {"/", "/", "/"},
    /* C0 controls and DEL */
    {"a\nb", "a\\nb", "a\\u000ab"},
    {"\t\r", "\\t\\r", "\\u0009\\u000d"},
    {"\x1b", "\\e", "\\u001b"},
    {"\x01\x08\x0b\x0c\x1f", "\\x01\\x08\\x0b\\x0c\\x1f",
     "\\u0001\\u0008\\u000b\\u000c\\u001f"},
    {"\x7f", "\\x7f", "\\u007f"},
    {"\x1b]0;pwned\x07", "\\e]0;pwned\\x07", "\\u001b]0;pwned\\u0007"},
    {"\x1b[2J\x1b[31m", "\\e[2J\\e[31m", "\\u001b[2J\\u001b[31m"},
    /* C1 controls: U+0080..U+009F, and U+00A0 just past them */
    {"\xc2\x80", "\\u0080", "\\u0080"},
    {"\xc2\x85", "\\u0085", "\\u0085"},
    {"\xc2\x9b"
     "31m",
     "\\u009b31m", "\\u009b31m"}, /* CSI */
    {"\xc2\x9f", "\\u009f", "\\u009f"},
    {"\xc2\xa0", "\xc2\xa0", "\xc2\xa0"},
    {"\xc2\xac\xc2\xad\xc2\xae", "\xc2\xac\\u00ad\xc2\xae",
     "\xc2\xac\\u00ad\xc2\xae"},
    /* bidi and invisible characters, and their neighbours */
    {"\xd8\x9b\xd8\x9c\xd8\x9d", "\xd8\x9b\\u061c\xd8\x9d",
     "\xd8\x9b\\u061c\xd8\x9d"},
    {"\xe2\x80\x8a\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d",
     "\xe2\x80\x8a\\u200b\\u200c\\u200d", "\xe2\x80\x8a\\u200b\\u200c\\u200d"},
    {"\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\x90", "\\u200e\\u200f\xe2\x80\x90",
     "\\u200e\\u200f\xe2\x80\x90"},
    {"\xe2\x80\xa7\xe2\x80\xa8\xe2\x80\xa9", "\xe2\x80\xa7\\u2028\\u2029",
     "\xe2\x80\xa7\\u2028\\u2029"},
    {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae",
     "\\u202a\\u202b\\u202c\\u202d\\u202e",
     "\\u202a\\u202b\\u202c\\u202d\\u202e"},
    {"\xe2\x80\xaf", "\xe2\x80\xaf", "\xe2\x80\xaf"},
    {"\xe2\x81\xa5\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xaa",
     "\xe2\x81\xa5\\u2066\\u2069\xe2\x81\xaa",
     "\xe2\x81\xa5\\u2066\\u2069\xe2\x81\xaa"},
    {"\xef\xbb\xbe\xef\xbb\xbf", "\xef\xbb\xbe\\ufeff", "\xef\xbb\xbe\\ufeff"},
    {"invoice\xe2\x80\xaegpj.exe", "invoice\\u202egpj.exe",
     "invoice\\u202egpj.exe"},
    /* valid UTF-8 at the edges of each length, shown as it is */
    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
    {"\xdf\xbf\xe0\xa0\x80", "\xdf\xbf\xe0\xa0\x80", "\xdf\xbf\xe0\xa0\x80"},
    {"\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80",
     "\xed\x9f\xbf\xee\x80\x80"}, /* U+D7FF, U+E000 */
    {"\xef\xbf\xbf\xf0\x90\x80\x80", "\xef\xbf\xbf\xf0\x90\x80\x80",
     "\xef\xbf\xbf\xf0\x90\x80\x80"}, /* U+FFFF, U+10000 */
    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* 10FFFF */
    {"\xef\xbf\xbd", "\xef\xbf\xbd", "\xef\xbf\xbd"}, /* a real U+FFFD */
    /* past U+10FFFF, and bytes that never start anything */
    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80",
     "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80",
     "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"\xf7\xbf\xbf\xbf", "\\xf7\\xbf\\xbf\\xbf",
     "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80",
     "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"\xfe\xff", "\\xfe\\xff", "\\ufffd\\ufffd"},
    {"\xc0", "\\xc0", "\\ufffd"},
    {"\xc1\x81", "\\xc1\\x81", "\\ufffd\\ufffd"}, /* overlong 'A' */
    /* overlong '/', in 2, 3 and 4 bytes, and an overlong NUL */
    {"\xc0\xaf", "\\xc0\\xaf", "\\ufffd\\ufffd"},
    {"\xe0\x80\xaf", "\\xe0\\x80\\xaf", "\\ufffd\\ufffd\\ufffd"},
    {"\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf",
     "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"..\xc0\xaf..", "..\\xc0\\xaf..", "..\\ufffd\\ufffd.."},
    {"\xc0\x80", "\\xc0\\x80", "\\ufffd\\ufffd"},
    {"\xe0\x9f\xbf", "\\xe0\\x9f\\xbf", "\\ufffd\\ufffd\\ufffd"}, /* 7FF */
    {"\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf",
     "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* U+FFFF in 4 bytes */
    /* surrogates, alone and as a CESU-8 pair */
    {"\xed\xa0\x80", "\\xed\\xa0\\x80", "\\ufffd\\ufffd\\ufffd"},
    {"\xed\xbf\xbf", "\\xed\\xbf\\xbf", "\\ufffd\\ufffd\\ufffd"},
    {"\xed\xa0\xbd\xed\xb8\x80", "\\xed\\xa0\\xbd\\xed\\xb8\\x80",
     "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
    /* stray continuation bytes and cut sequences: resync at the next byte */
    {"\x80", "\\x80", "\\ufffd"},
    {"a\xbf"
     "b",
     "a\\xbfb", "a\\ufffdb"},
    {"\xc3", "\\xc3", "\\ufffd"},
    {"\xe2\x82", "\\xe2\\x82", "\\ufffd\\ufffd"},
    {"\xe2\x82"
     "A",
     "\\xe2\\x82A", "\\ufffd\\ufffdA"},
    {"\xf0\x9f\x98", "\\xf0\\x9f\\x98", "\\ufffd\\ufffd\\ufffd"},
    {"\xc3\xc3\xa9", "\\xc3\xc3\xa9", "\\ufffd\xc3\xa9"},
    {"\xe2\xe2\x80\xae", "\\xe2\\u202e", "\\ufffd\\u202e"},
    {"\xf0\x9f\x98\n", "\\xf0\\x9f\\x98\\n", "\\ufffd\\ufffd\\ufffd\\u000a"},
    {"\xc2\x1b", "\\xc2\\e", "\\ufffd\\u001b"},
};

static void test_table(void)
{
    char out[MAX_OUT], want[MAX_OUT];

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct expect *e = &table[i];
        size_t n = escape_display(e->in, out, sizeof out);
        if (strcmp(out, e->display) != 0 || n != strlen(e->display)) {
            fprintf(stderr, "table[%zu]: wanted \"", i);
            print_raw(e->display);
            fputs("\"\n", stderr);
            fail_case(e->in, "escape_display", out);
        }
        snprintf(want, sizeof want, "\"%s\"", e->json);
        n = escape_json(e->in, out, sizeof out);
        if (strcmp(out, want) != 0 || n != strlen(want)) {
            fprintf(stderr, "table[%zu]: wanted ", i);
            print_raw(want);
            fputc('\n', stderr);
            fail_case(e->in, "escape_json", out);
        }
        check_input(e->in, 1);
        check_cuts_alone(e->in);
        python_send('J', out, e->in);
        escape_display(e->in, out, sizeof out);
        python_send('D', out, NULL);
    }
}

/* Every C1 and hidden code point, every code point U+0000..U+FFFF and a
 * sample above: the library's judgement against the reference's. */
static void test_every_code_point(void)
{
    char in[8], out[32], quoted[16];

    for (uint32_t cp = 1; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 97) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        in[utf8_put(in, cp)] = '\0';
        int plain = cp >= 0x20 && cp != 0x7f && cp != '\\' && !ref_hidden(cp);
        escape_display(in, out, sizeof out);
        if ((strcmp(out, in) == 0) != plain) {
            fprintf(stderr, "U+%04" PRIX32 ": ", cp);
            fail_case(in, "escape_display", out);
        }
        escape_json(in, out, sizeof out);
        snprintf(quoted, sizeof quoted, "\"%s\"", in);
        if ((strcmp(out, quoted) == 0) != (plain && cp != '"')) {
            fprintf(stderr, "U+%04" PRIX32 ": ", cp);
            fail_case(in, "escape_json", out);
        }
        checks++;
    }
    /* The last one is U+10FFFF itself; the one after cannot be encoded in
     * 4 bytes of UTF-8 and is in the table. */
    in[utf8_put(in, 0x10ffff)] = '\0';
    escape_display(in, out, sizeof out);
    CHECK_STR_EQ(out, in);
}

/* Inputs made to hurt a cut: every escape kind and every UTF-8 length next
 * to each other, tried at every output size from 0 to past full. */
static void test_cuts(void)
{
    static const char *nasty[] = {
        "\x1b]0;\xe2\x80\xae\xc2\x9b\\\"\xf0\x9f\x98\x80\xe2\x82\n\x7f\xff",
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
        "\\\\\\\\\\",
        "\"\"\"\"",
        "\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae",
        "\xc3\xa9x\xc3\xa9\xc2\x80\xc3\xa9\xed\xa0\x80\xc3\xa9",
        "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
        "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
        "a\xe2\x82\xac"
        "b\xf4\x8f\xbf\xbf"
        "c\xf4\x90\x80\x80"
        "d",
    };
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        check_input(nasty[i], 1);
        check_cuts_alone(nasty[i]);
    }

    /* The smallest sizes by hand: the contract's words, not the reference. */
    char out[4];
    CHECK_EQ(escape_json("abc", out, 1), 0);
    CHECK_EQ(out[0], '\0');
    CHECK_EQ(escape_json("abc", out, 2), 0);
    CHECK_EQ(out[0], '\0');
    CHECK_EQ(escape_json("abc", out, 3), 2);
    CHECK_STR_EQ(out, "\"\"");
    CHECK_EQ(escape_json("abc", out, 4), 3);
    CHECK_STR_EQ(out, "\"a\"");
    CHECK_EQ(escape_display("\n", out, 2), 0); /* \n needs 3 bytes */
    CHECK_EQ(out[0], '\0');
    CHECK_EQ(escape_display("\n", out, 3), 2);
    CHECK_STR_EQ(out, "\\n");
    CHECK_EQ(escape_display("\xc3\xa9", out, 2), 0); /* no half é */
    CHECK_EQ(escape_display("\xc3\xa9", out, 3), 2);
    CHECK_EQ(escape_display("a\xe2\x80\xae", out, 4), 1);
    CHECK_STR_EQ(out, "a");
    out[0] = 'Z';
    CHECK_EQ(escape_display("abc", out, 0), 0);
    CHECK_EQ(escape_json("abc", out, 0), 0);
    CHECK_EQ(out[0], 'Z');
    CHECK_EQ(escape_display_size(""), 1);
    CHECK_EQ(escape_json_size(""), 3);
    CHECK_EQ(escape_display_size("\xe2\x80\xae"), 7);
    CHECK_EQ(escape_json_size("\xff\"\n"), 3 + 6 + 2 + 6);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random string built from pieces that reach every class: any byte,
 * ASCII, well-formed characters of every length (hidden ones included),
 * and fragments of bad sequences. */
static void random_string(char *s, size_t max)
{
    static const char *frag[] = {
        "\xe2\x80\xae",
        "\xe2\x81\xa6",
        "\xc2\x85",
        "\xc2\x9f",
        "\xc2\xa0",
        "\xef\xbb\xbf",
        "\xc2\xad",
        "\xd8\x9c",
        "\xe2\x80\xa8",
        "\x1b[",
        "\xc0\xaf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\\",
        "\"",
        "\\u202e",
        "\\x41",
    };
    size_t len = 0, want = rng() % (max / 4);

    while (len < want) {
        char buf[8];
        size_t n;
        uint32_t cp;
        switch (rng() % 6) {
        case 0: /* any byte but NUL */
            buf[0] = (char)(rng() % 255 + 1);
            n = 1;
            break;
        case 1:
            buf[0] = (char)(rng() % 95 + 0x20);
            n = 1;
            break;
        case 2: /* a character of 1-4 bytes, any plane */
            do {
                uint32_t top[] = {0x80, 0x800, 0x10000, 0x110000};
                cp = (uint32_t)(rng() % top[rng() % 4]);
            } while (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff));
            n = (size_t)utf8_put(buf, cp);
            break;
        case 3: { /* a fragment */
            const char *f = frag[rng() % (sizeof frag / sizeof frag[0])];
            n = strlen(f);
            memcpy(buf, f, n);
            break;
        }
        case 4: /* a well-formed character cut short */
            cp = (uint32_t)(0x80 + rng() % (0x110000 - 0x80));
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xe9;
            n = (size_t)utf8_put(buf, cp) - 1;
            break;
        default: /* a lead byte and bytes of any kind after it */
            buf[0] = (char)(0xc0 + rng() % 64);
            buf[1] = (char)(rng() % 255 + 1);
            buf[2] = (char)(0x80 + rng() % 64);
            n = 3;
        }
        if (len + n >= max)
            break;
        memcpy(s + len, buf, n);
        len += n;
    }
    s[len] = '\0';
}

static void test_random(uint64_t seed)
{
    static char s[200], out[MAX_OUT];
    fprintf(stderr, "random: seed %" PRIu64 "\n", seed);
    rng_state = seed ? seed : 1;

    for (long i = 0; i < RANDOM_CASES; i++) {
        random_string(s, sizeof s);
        check_input(s, i % 100 == 0);
        if (i % PYTHON_EVERY == 0) {
            escape_json(s, out, sizeof out);
            python_send('J', out, s);
            escape_display(s, out, sizeof out);
            python_send('D', out, NULL);
        }
        if (i % 1000 == 0)
            check_cuts_alone(s);
    }
}

int main(int argc, char **argv)
{
    uint64_t seed =
        argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
    int tests = 0;

    python_start();
    test_table(), tests++;
    test_every_code_point(), tests++;
    test_cuts(), tests++;
    test_random(seed), tests++;
    python_finish();
    printf("test_escape: %d tests, %ld inputs, %zu table cases: ok\n", tests,
           checks, sizeof table / sizeof table[0]);
    return 0;
}
