// append_pixel_number (the meta's geometry_px, visible_px) writes its own digits from the whole
// hundredths, not through std::to_chars's search for the shortest (issue 25): checked to write
// exactly what to_chars writes for the value rounded to 2 decimals, on every hundredth in
// ±20,000 px, millions of random values over 19 orders of magnitude (fixed and scientific
// forms), powers of ten (where the scientific form is shorter) and the values that are not finite.

#include "pipeline/common/pixel_number.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <random>
#include <string>

using skyscript::pipeline::append_pixel_number;

namespace {

std::string by_to_chars(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::isfinite(v) ? std::round(v * 100) / 100 + 0.0 : 0.0);
    return std::string(buf, r.ptr);
}

std::string ours(double v) {
    std::string s;
    append_pixel_number(s, v);
    return s;
}

} // namespace

TEST_CASE("a pixel number is what std::to_chars writes for it rounded to 2 decimals") {
    long differ = 0, n = 0;
    auto check = [&](double v) {
        ++n;
        if (ours(v) != by_to_chars(v) && ++differ <= 10) CHECK_MESSAGE(false, v << ": " << ours(v) << " against " << by_to_chars(v));
    };
    for (long k = -2000000; k <= 2000000; ++k) check(static_cast<double>(k) / 100);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < 2000000; ++i) check(u(rng) * std::pow(10.0, 16 * std::abs(u(rng)) - 3));
    for (double p = 1; p < 1e20; p *= 10)
        for (const double m : {1.0, 2.0, 1.5, 1.25, 9.99, 10.01}) {
            check(p * m);
            check(-p * m);
            check(p * m + 0.004999);
        }
    for (const double v : {double(NAN), double(INFINITY), -double(INFINITY), -0.0, -0.004, 0.005, -0.005, 1e5, 147456.0}) check(v);
    CHECK(differ == 0);
    CHECK(n > 6000000);
    CHECK(ours(100000) == "1e+05"); // shorter than "100000": to_chars's rule
    CHECK(ours(23.776) == "23.78");
    CHECK(ours(-0.001) == "0");
}
