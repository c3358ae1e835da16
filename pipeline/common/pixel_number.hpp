#pragma once
// A pixel coordinate or size as text, rounded to 2 decimals in its shortest form ("23.78",
// "200"): the meta's geometry_px (plan) and the report's outlines drawn from it write the
// same numbers. Valid JSON and SVG; not finite -> "0".

#include <charconv>
#include <cmath>
#include <string>

namespace skyscript::pipeline {

namespace pixel_number_detail {

// std::to_chars(round(v * 100) / 100) for the whole hundredths k (|k| < 1e15): that double is
// the one nearest k / 100, so its shortest digits are k's without trailing zeros; written
// fixed, or as d.ddde±XX when that is shorter (to_chars's rule; a tie goes to fixed). The plan
// writes millions of coordinates, and to_chars's search for the shortest digits was 4% of it.
inline void append_hundredths(std::string& out, long long k) {
    char digits[20]; // of |k|, the last first
    int n = 0;
    for (unsigned long long u = k < 0 ? 0ULL - static_cast<unsigned long long>(k) : static_cast<unsigned long long>(k); u; u /= 10)
        digits[n++] = static_cast<char>('0' + u % 10);
    if (n == 0) {
        out += '0';
        return;
    }
    // digits[n-1] is the leading digit; the decimal point is 2 places from the right.
    int trailing = 0; // zeros at the right of the significant digits
    while (digits[trailing] == '0') ++trailing;
    const int significant = n - trailing;
    const int exponent = n - 3;                 // of the leading digit
    const int frac = trailing >= 2 ? 0 : 2 - trailing; // decimals written in fixed form
    const int fixed_length = (n > 2 ? n - 2 : 1) + (frac ? 1 + frac : 0);
    const int e = exponent < 0 ? -exponent : exponent;
    const int sci_length = 1 + (significant > 1 ? significant : 0) + 2 + (e >= 100 ? 3 : 2); // d[.ddd]e±XX
    char buf[40];
    char* p = buf;
    if (k < 0) *p++ = '-';
    if (sci_length < fixed_length) {
        *p++ = digits[n - 1];
        if (significant > 1) {
            *p++ = '.';
            for (int i = n - 2; i >= trailing; --i) *p++ = digits[i];
        }
        *p++ = 'e';
        *p++ = exponent < 0 ? '-' : '+';
        if (e >= 100) *p++ = static_cast<char>('0' + e / 100);
        *p++ = static_cast<char>('0' + e / 10 % 10);
        *p++ = static_cast<char>('0' + e % 10);
    } else {
        if (n <= 2) *p++ = '0';
        else
            for (int i = n - 1; i >= 2; --i) *p++ = digits[i];
        if (frac) {
            *p++ = '.';
            for (int i = 1; i >= 2 - frac; --i) *p++ = i < n ? digits[i] : '0';
        }
    }
    out.append(buf, p);
}

} // namespace pixel_number_detail

inline void append_pixel_number(std::string& out, double v) {
    const double hundredths = std::isfinite(v) ? std::round(v * 100) : 0.0;
    if (std::fabs(hundredths) < 1e15) {
        pixel_number_detail::append_hundredths(out, static_cast<long long>(hundredths));
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, hundredths / 100 + 0.0);
    out.append(buf, r.ptr);
}

} // namespace skyscript::pipeline
