/* units: parse and format rates, sizes, durations and times. */
#include "units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A unit suffix and what one of it is worth. */
struct unit {
    const char *suffix; /* compared case-insensitively */
    uint64_t mult;
};

/* Rates: SI multiples of bits per second. */
static const struct unit rate_units[] = {
    {"bit", 1ULL},
    {"kbit", 1000ULL},
    {"mbit", 1000000ULL},
    {"gbit", 1000000000ULL},
    {"tbit", 1000000000000ULL},
    {"bps", 1ULL},
    {"kbps", 1000ULL},
    {"mbps", 1000000ULL},
    {"gbps", 1000000000ULL},
};

/* Sizes: SI (KB..GB) and binary (KiB..TiB) multiples of bytes. */
static const struct unit size_units[] = {
    {"", 1ULL},          {"b", 1ULL},           {"kb", 1000ULL},
    {"mb", 1000000ULL},  {"gb", 1000000000ULL}, {"kib", 1ULL << 10},
    {"mib", 1ULL << 20}, {"gib", 1ULL << 30},   {"tib", 1ULL << 40},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* Fraction digits kept; later ones are below one unit of any result. */
#define FRAC_DIGITS_MAX 18

/* "123.45" split into parts; 'overflow' if the integer part does not fit. */
struct decimal {
    uint64_t int_part;
    uint64_t frac;        /* the kept fraction digits as an integer */
    unsigned frac_digits; /* how many were kept */
    bool overflow;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses digits[.digits] at 's'. Returns the end, or NULL if malformed. */
static const char *parse_decimal(const char *s, struct decimal *d)
{
    memset(d, 0, sizeof(*d));
    if (!is_digit(*s))
        return NULL;
    for (; is_digit(*s); s++) {
        if (__builtin_mul_overflow(d->int_part, 10, &d->int_part) ||
            __builtin_add_overflow(d->int_part, (uint64_t)(*s - '0'),
                                   &d->int_part))
            d->overflow = true;
    }
    if (*s != '.')
        return s;
    s++;
    if (!is_digit(*s))
        return NULL;
    for (; is_digit(*s); s++) {
        if (d->frac_digits < FRAC_DIGITS_MAX) {
            d->frac = d->frac * 10 + (uint64_t)(*s - '0');
            d->frac_digits++;
        }
    }
    return s;
}

/* d * mult, fraction rounded down. 0, or -2 beyond UINT64_MAX. */
static int decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *out)
{
    unsigned __int128 v, pow10 = 1;

    if (d->overflow && mult > 0)
        return -2;
    for (unsigned i = 0; i < d->frac_digits; i++)
        pow10 *= 10;
    v = (unsigned __int128)d->int_part * mult +
        (unsigned __int128)d->frac * mult / pow10;
    if (v > UINT64_MAX)
        return -2;
    *out = (uint64_t)v;
    return 0;
}

/* Number followed by one of 'units'. 0, -1 malformed, -2 overflow. */
static int parse_with_unit(const char *s, const struct unit *units,
                           size_t n_units, uint64_t *out)
{
    struct decimal d;
    const char *end;

    if (s == NULL || (end = parse_decimal(s, &d)) == NULL)
        return -1;
    for (size_t i = 0; i < n_units; i++) {
        if (strcasecmp(end, units[i].suffix) == 0)
            return decimal_scale(&d, units[i].mult, out);
    }
    return -1;
}

int units_parse_rate_unbounded(const char *s, uint64_t *bits_per_s)
{
    return parse_with_unit(s, rate_units, N_ELEMS(rate_units), bits_per_s);
}

int units_parse_rate(const char *s, uint64_t *bits_per_s)
{
    uint64_t v;

    if (units_parse_rate_unbounded(s, &v) != 0 || v < 1 ||
        v > UNITS_RATE_MAX_BPS)
        return -1;
    *bits_per_s = v;
    return 0;
}

int units_parse_size_unbounded(const char *s, uint64_t *bytes)
{
    return parse_with_unit(s, size_units, N_ELEMS(size_units), bytes);
}

int units_parse_size(const char *s, uint64_t *bytes)
{
    uint64_t v;

    if (units_parse_size_unbounded(s, &v) != 0 || v > UNITS_SIZE_MAX_BYTES)
        return -1;
    *bytes = v;
    return 0;
}

/* Digits at *p into *n (advancing *p). 0, -1 if none, -2 on overflow. */
static int parse_uint(const char **p, uint64_t *n)
{
    const char *s = *p;
    bool overflow = false;

    if (!is_digit(*s))
        return -1;
    *n = 0;
    for (; is_digit(*s); s++) {
        if (__builtin_mul_overflow(*n, 10, n) ||
            __builtin_add_overflow(*n, (uint64_t)(*s - '0'), n))
            overflow = true;
    }
    *p = s;
    return overflow ? -2 : 0;
}

/* Adds n * mult to *total. -2 on overflow. */
static int add_scaled(uint64_t *total, uint64_t n, uint64_t mult)
{
    uint64_t v;

    if (__builtin_mul_overflow(n, mult, &v) ||
        __builtin_add_overflow(*total, v, total))
        return -2;
    return 0;
}

/* The "T[nH][nM][nS]" part, at least one, in that order. */
static int parse_duration_time(const char **p, uint64_t *total)
{
    static const char letters[] = "HMS";
    static const uint64_t mults[] = {3600, 60, 1};
    int next = 0, rc = 0, any = 0;

    while (is_digit(**p)) {
        uint64_t n;
        const char *at;
        int r = parse_uint(p, &n);

        at = **p != '\0' ? strchr(letters + next, **p) : NULL;
        if (at == NULL)
            return -1;
        next = (int)(at - letters) + 1;
        (*p)++;
        any = 1;
        if (r == -2 || add_scaled(total, n, mults[next - 1]) != 0)
            rc = -2;
    }
    return any ? rc : -1;
}

int units_parse_duration_unbounded(const char *s, uint64_t *seconds)
{
    uint64_t total = 0, n;
    int rc = 0, any = 0;

    if (s == NULL || *s++ != 'P')
        return -1;
    if (is_digit(*s)) {
        int r = parse_uint(&s, &n);

        if (*s++ != 'D')
            return -1;
        if (r == -2 || add_scaled(&total, n, 86400) != 0)
            rc = -2;
        any = 1;
    }
    if (*s == 'T') {
        int r;

        s++;
        r = parse_duration_time(&s, &total);
        if (r == -1)
            return -1;
        if (r == -2)
            rc = -2;
        any = 1;
    }
    if (!any || *s != '\0')
        return -1;
    if (rc == 0)
        *seconds = total;
    return rc;
}

int units_parse_duration(const char *s, uint64_t *seconds)
{
    uint64_t v;

    if (units_parse_duration_unbounded(s, &v) != 0 || v == 0)
        return -1;
    *seconds = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* 'width' digits at s as a number, or -1. */
static int fixed_digits(const char *s, int width)
{
    int v = 0;

    for (int i = 0; i < width; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int units_parse_time(const char *s, time_t *t)
{
    /* "YYYY-MM-DDTHH:MM:SSZ": field offsets, widths, bounds. */
    static const struct {
        int off, width, min, max;
    } f[] = {{0, 4, 1970, 9999}, {5, 2, 1, 12},  {8, 2, 1, 31},
             {11, 2, 0, 23},     {14, 2, 0, 59}, {17, 2, 0, 59}};
    int v[6];

    if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' ||
        s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return -1;
    for (size_t i = 0; i < N_ELEMS(f); i++) {
        v[i] = fixed_digits(s + f[i].off, f[i].width);
        if (v[i] < f[i].min || v[i] > f[i].max)
            return -1;
    }
    if ((unsigned)v[2] > days_in_month((unsigned)v[0], (unsigned)v[1]))
        return -1;
    *t =
        (time_t)(days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400 +
                 v[3] * 3600 + v[4] * 60 + v[5]);
    return 0;
}

/* "<int>[.<frac>]<suffix>" where frac is 'rem' out of 'unit', written with
 * 'frac_width' digits and trailing zeros dropped. */
static char *format_fixed(char *buf, size_t n, uint64_t int_part, uint64_t frac,
                          int frac_width, const char *suffix)
{
    char digits[24];
    int len;

    if (frac == 0) {
        snprintf(buf, n, "%llu%s", (unsigned long long)int_part, suffix);
        return buf;
    }
    len = snprintf(digits, sizeof(digits), "%0*llu", frac_width,
                   (unsigned long long)frac);
    while (len > 1 && digits[len - 1] == '0')
        digits[--len] = '\0';
    snprintf(buf, n, "%llu.%s%s", (unsigned long long)int_part, digits, suffix);
    return buf;
}

char *units_format_rate(uint64_t bits_per_s, char *buf, size_t n)
{
    static const struct {
        uint64_t mult;
        int frac_width;
        const char *suffix;
    } ladder[] = {{1000000000000ULL, 12, "Tbit"},
                  {1000000000ULL, 9, "Gbit"},
                  {1000000ULL, 6, "Mbit"},
                  {1000ULL, 3, "kbit"}};

    for (size_t i = 0; i < N_ELEMS(ladder); i++) {
        uint64_t m = ladder[i].mult;

        if (bits_per_s >= m)
            return format_fixed(buf, n, bits_per_s / m, bits_per_s % m,
                                ladder[i].frac_width, ladder[i].suffix);
    }
    return format_fixed(buf, n, bits_per_s, 0, 0, "bit");
}

char *units_format_size(uint64_t bytes, char *buf, size_t n)
{
    static const struct {
        unsigned shift;
        const char *suffix;
    } ladder[] = {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};

    /* The largest unit in which the value is exact to 3 decimals. */
    for (size_t i = 0; i < N_ELEMS(ladder); i++) {
        uint64_t m = 1ULL << ladder[i].shift, rem = bytes % m;

        if (bytes >= m && rem * 1000 % m == 0)
            return format_fixed(buf, n, bytes / m, rem * 1000 / m, 3,
                                ladder[i].suffix);
    }
    return format_fixed(buf, n, bytes, 0, 0, "B");
}

char *units_format_duration(uint64_t seconds, char *buf, size_t n)
{
    static const struct {
        uint64_t secs;
        char letter;
    } parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t used = 0;

    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (seconds == 0) {
        snprintf(buf, n, "0s");
        return buf;
    }
    for (size_t i = 0; i < N_ELEMS(parts) && used < n; i++) {
        uint64_t k = seconds / parts[i].secs;
        int w;

        seconds %= parts[i].secs;
        if (k == 0)
            continue;
        w = snprintf(buf + used, n - used, "%llu%c", (unsigned long long)k,
                     parts[i].letter);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

char *units_format_time(time_t t, char *buf, size_t n)
{
    struct tm tm;

    if (n == 0)
        return buf;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, n, "?");
    return buf;
}
