/* units: parse and format the quantities of slice specs and topologies.
 * All parsers return 0 on success and -1 on a malformed or out-of-range
 * value, leaving the output untouched. */
#ifndef VN_UNITS_H
#define VN_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Rate in bits per second: a decimal number (fraction allowed) followed by
 * bit, kbit, Mbit, Gbit, Tbit (SI, x1000; case-insensitive), or bps, kbps,
 * Mbps, Gbps (same meaning, bits). "100Mbit" -> 100000000. A bare number is
 * refused (a rate needs its unit). Result must be in [1, 10^13]. */
int units_parse_rate(const char *s, uint64_t *bits_per_s);

/* Size in bytes: a decimal number followed by B, KB/MB/GB (x1000),
 * KiB/MiB/GiB/TiB (x1024), or no unit (bytes). "64KiB" -> 65536.
 * Result must be in [0, 2^50]. */
int units_parse_size(const char *s, uint64_t *bytes);

/* ISO 8601 duration "PnDTnHnMnS" (P1D, PT4H, PT30M, P1DT2H30M15S).
 * Must be > 0. */
int units_parse_duration(const char *s, uint64_t *seconds);

/* ISO 8601 UTC time "2026-11-24T09:00:00Z" (the Z is required). */
int units_parse_time(const char *s, time_t *t);

/* Human forms: "100Mbit", "1.5Gbit", "64KiB", "4h30m", "2026-11-24T09:00:00Z".
 * Write into buf (size n) and return buf. */
char *units_format_rate(uint64_t bits_per_s, char *buf, size_t n);
char *units_format_size(uint64_t bytes, char *buf, size_t n);
char *units_format_duration(uint64_t seconds, char *buf, size_t n);
char *units_format_time(time_t t, char *buf, size_t n);

/* Bounds enforced by the parsers above. */
#define UNITS_RATE_MAX_BPS 10000000000000ULL /* 10 Tbit/s */
#define UNITS_SIZE_MAX_BYTES (1ULL << 50)

/* The grammars of units_parse_rate, units_parse_size and
 * units_parse_duration without their range checks, for callers that report
 * "zero" or "too large" apart from "malformed": return 0 (any value from 0 to
 * UINT64_MAX, fractions rounded down), -1 if malformed, or -2 if well-formed
 * but beyond UINT64_MAX. Output untouched on failure. */
int units_parse_rate_unbounded(const char *s, uint64_t *bits_per_s);
int units_parse_size_unbounded(const char *s, uint64_t *bytes);
int units_parse_duration_unbounded(const char *s, uint64_t *seconds);

#endif
