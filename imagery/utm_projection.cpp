#include "imagery/utm_projection.hpp"

// The arithmetic below is PROJ 9.1.1's (src/projections/tmerc.cpp, fwd.cpp, inv.cpp,
// adjlon.cpp, ell_set.cpp, conversions/unitconvert.cpp, 4D_api.cpp), expression for
// expression: any reordering changes the last bits. Built with -ffp-contract=off (no fused
// multiply-add), as Debian builds PROJ for the x86-64 baseline.

#include <cmath>
#include <vector>

namespace skyscript::imagery {

namespace {

constexpr double pi = 3.14159265358979323846;      // M_PI in proj_internal.h
constexpr double half_pi = pi / 2;                  // M_HALFPI (M_PI_2)
constexpr double two_pi = 6.28318530717958647693;   // M_TWOPI
constexpr double deg_to_rad = .017453292519943296; // unitconvert's "deg" factor (DEG_TO_RAD)
constexpr double eps_lat = 1e-12;                   // PJ_EPS_LAT
constexpr double wgs84_a = 6378137.0, wgs84_rf = 298.257223563;
constexpr double false_easting = 500000.;
constexpr int order = 6; // PROJ_ETMERC_ORDER

double adjlon(double lon) {
    if (std::fabs(lon) < pi + 1e-12) return lon;
    lon += pi;
    lon -= two_pi * std::floor(lon / two_pi);
    lon -= pi;
    return lon;
}

double gatg(const double* p1, int len_p1, double B, double cos_2B, double sin_2B) {
    double h = 0, h1, h2 = 0;
    const double two_cos_2B = 2 * cos_2B;
    const double* p = p1 + len_p1;
    h1 = *--p;
    while (p - p1) {
        h = -h2 + two_cos_2B * h1 + *--p;
        h2 = h1;
        h1 = h;
    }
    return (B + h * sin_2B);
}

double clenS(const double* a, int size, double sin_arg_r, double cos_arg_r, double sinh_arg_i, double cosh_arg_i, double* R, double* I) {
    double r, i, hr, hr1, hr2, hi, hi1, hi2;
    const double* p = a + size;
    r = 2 * cos_arg_r * cosh_arg_i;
    i = -2 * sin_arg_r * sinh_arg_i;
    hi1 = hr1 = hi = 0;
    hr = *--p;
    for (; a - p;) {
        hr2 = hr1;
        hi2 = hi1;
        hr1 = hr;
        hi1 = hi;
        hr = -hr2 + r * hr1 - i * hi1 + *--p;
        hi = -hi2 + i * hr1 + r * hi1;
    }
    r = sin_arg_r * cosh_arg_i;
    i = cos_arg_r * sinh_arg_i;
    *R = r * hr - i * hi;
    *I = r * hi + i * hr;
    return *R;
}

double clens(const double* a, int size, double arg_r) {
    double r, hr, hr1, hr2, cos_arg_r;
    const double* p = a + size;
    cos_arg_r = std::cos(arg_r);
    r = 2 * cos_arg_r;
    hr1 = 0;
    hr = *--p;
    for (; a - p;) {
        hr2 = hr1;
        hr1 = hr;
        hr = -hr2 + r * hr1 + *--p;
    }
    return std::sin(arg_r) * hr;
}

// 4D_api.cpp's helpers of proj_trans_bounds.
int find_previous_index(const int iii, const double* data, const int arr_len) {
    int prev_iii = iii - 1;
    if (prev_iii == -1) prev_iii = arr_len - 1;
    while (data[prev_iii] == HUGE_VAL && prev_iii != iii) {
        prev_iii--;
        if (prev_iii == -1) prev_iii = arr_len - 1;
    }
    return prev_iii;
}

double simple_min(const double* data, const int arr_len) {
    double min_value = data[0];
    for (int iii = 1; iii < arr_len; iii++)
        if (data[iii] < min_value) min_value = data[iii];
    return min_value;
}

double simple_max(const double* data, const int arr_len) {
    double max_value = data[0];
    for (int iii = 1; iii < arr_len; iii++)
        if ((data[iii] > max_value || max_value == HUGE_VAL) && data[iii] != HUGE_VAL) max_value = data[iii];
    return max_value;
}

double antimeridian_min(const double* data, const int arr_len) {
    double positive_min = HUGE_VAL;
    double min_value = HUGE_VAL;
    int crossed_meridian_count = 0;
    bool positive_meridian = false;
    for (int iii = 0; iii < arr_len; iii++) {
        if (data[iii] == HUGE_VAL) continue;
        int prev_iii = find_previous_index(iii, data, arr_len);
        double delta = data[prev_iii] - data[iii];
        if (delta >= 200 && delta != HUGE_VAL) {
            if (crossed_meridian_count == 0) positive_min = min_value;
            crossed_meridian_count++;
            positive_meridian = false;
        } else if (delta <= -200 && delta != HUGE_VAL) {
            if (crossed_meridian_count == 0) positive_min = data[iii];
            crossed_meridian_count++;
            positive_meridian = true;
        }
        if (positive_meridian && data[iii] < positive_min) positive_min = data[iii];
        if (data[iii] < min_value) min_value = data[iii];
    }
    if (crossed_meridian_count == 2) return positive_min;
    if (crossed_meridian_count == 4) return -180;
    return min_value;
}

double antimeridian_max(const double* data, const int arr_len) {
    double negative_max = -HUGE_VAL;
    double max_value = -HUGE_VAL;
    bool negative_meridian = false;
    int crossed_meridian_count = 0;
    for (int iii = 0; iii < arr_len; iii++) {
        if (data[iii] == HUGE_VAL) continue;
        int prev_iii = find_previous_index(iii, data, arr_len);
        double delta = data[prev_iii] - data[iii];
        if (delta >= 200 && delta != HUGE_VAL) {
            if (crossed_meridian_count == 0) negative_max = data[iii];
            crossed_meridian_count++;
            negative_meridian = true;
        } else if (delta <= -200 && delta != HUGE_VAL) {
            if (crossed_meridian_count == 0) negative_max = max_value;
            negative_meridian = false;
            crossed_meridian_count++;
        }
        if (negative_meridian && (data[iii] > negative_max || negative_max == HUGE_VAL) && data[iii] != HUGE_VAL) negative_max = data[iii];
        if ((data[iii] > max_value || max_value == HUGE_VAL) && data[iii] != HUGE_VAL) max_value = data[iii];
    }
    if (crossed_meridian_count == 2) return negative_max;
    if (crossed_meridian_count == 4) return 180;
    return max_value;
}

} // namespace

UtmProjection::UtmProjection(int zone, bool south) {
    // ell_set.cpp: ellps=WGS84 gives a and rf; ellps_shape, then pj_calc_ellipsoid_params.
    const double f = 1 / wgs84_rf;
    const double es = 2 * f - f * f;
    const double e = std::sqrt(es);
    const double alpha = std::asin(e);
    const double n = std::pow(std::tan(alpha / 2), 2);
    // utm's setup: the zone's central meridian, k0, phi0 = 0.
    const long z = zone - 1;
    lam0_ = (z + .5) * pi / 30. - pi;
    y0_ = south ? 10000000. : 0.;
    const double k0 = 0.9996, phi0 = 0.;

    // setup_exact.
    double np = n;
    cgb_[0] = n * (2 + n * (-2 / 3.0 + n * (-2 + n * (116 / 45.0 + n * (26 / 45.0 + n * (-2854 / 675.0))))));
    cbg_[0] = n * (-2 + n * (2 / 3.0 + n * (4 / 3.0 + n * (-82 / 45.0 + n * (32 / 45.0 + n * (4642 / 4725.0))))));
    np *= n;
    cgb_[1] = np * (7 / 3.0 + n * (-8 / 5.0 + n * (-227 / 45.0 + n * (2704 / 315.0 + n * (2323 / 945.0)))));
    cbg_[1] = np * (5 / 3.0 + n * (-16 / 15.0 + n * (-13 / 9.0 + n * (904 / 315.0 + n * (-1522 / 945.0)))));
    np *= n;
    cgb_[2] = np * (56 / 15.0 + n * (-136 / 35.0 + n * (-1262 / 105.0 + n * (73814 / 2835.0))));
    cbg_[2] = np * (-26 / 15.0 + n * (34 / 21.0 + n * (8 / 5.0 + n * (-12686 / 2835.0))));
    np *= n;
    cgb_[3] = np * (4279 / 630.0 + n * (-332 / 35.0 + n * (-399572 / 14175.0)));
    cbg_[3] = np * (1237 / 630.0 + n * (-12 / 5.0 + n * (-24832 / 14175.0)));
    np *= n;
    cgb_[4] = np * (4174 / 315.0 + n * (-144838 / 6237.0));
    cbg_[4] = np * (-734 / 315.0 + n * (109598 / 31185.0));
    np *= n;
    cgb_[5] = np * (601676 / 22275.0);
    cbg_[5] = np * (444337 / 155925.0);

    np = n * n;
    qn_ = k0 / (1 + n) * (1 + np * (1 / 4.0 + np * (1 / 64.0 + np / 256.0)));
    utg_[0] = n * (-0.5 + n * (2 / 3.0 + n * (-37 / 96.0 + n * (1 / 360.0 + n * (81 / 512.0 + n * (-96199 / 604800.0))))));
    gtu_[0] = n * (0.5 + n * (-2 / 3.0 + n * (5 / 16.0 + n * (41 / 180.0 + n * (-127 / 288.0 + n * (7891 / 37800.0))))));
    utg_[1] = np * (-1 / 48.0 + n * (-1 / 15.0 + n * (437 / 1440.0 + n * (-46 / 105.0 + n * (1118711 / 3870720.0)))));
    gtu_[1] = np * (13 / 48.0 + n * (-3 / 5.0 + n * (557 / 1440.0 + n * (281 / 630.0 + n * (-1983433 / 1935360.0)))));
    np *= n;
    utg_[2] = np * (-17 / 480.0 + n * (37 / 840.0 + n * (209 / 4480.0 + n * (-5569 / 90720.0))));
    gtu_[2] = np * (61 / 240.0 + n * (-103 / 140.0 + n * (15061 / 26880.0 + n * (167603 / 181440.0))));
    np *= n;
    utg_[3] = np * (-4397 / 161280.0 + n * (11 / 504.0 + n * (830251 / 7257600.0)));
    gtu_[3] = np * (49561 / 161280.0 + n * (-179 / 168.0 + n * (6601661 / 7257600.0)));
    np *= n;
    utg_[4] = np * (-4583 / 161280.0 + n * (108847 / 3991680.0));
    gtu_[4] = np * (34729 / 80640.0 + n * (-3418889 / 1995840.0));
    np *= n;
    utg_[5] = np * (-20648693 / 638668800.0);
    gtu_[5] = np * (212378941 / 319334400.0);
    const double Z = gatg(cbg_, order, phi0, std::cos(2 * phi0), std::sin(2 * phi0));
    zb_ = -qn_ * (Z + clens(gtu_, order, 2 * Z));

    // proj_trans_bounds's pole tests project (0, +-90) forward, once here.
    forward(0, 90, north_pole_x_, north_pole_y_);
    forward(0, -90, south_pole_x_, south_pole_y_);
}

std::optional<UtmProjection> UtmProjection::of_epsg(int epsg) {
    if (epsg > 32600 && epsg <= 32660) return UtmProjection(epsg - 32600, false);
    if (epsg > 32700 && epsg <= 32760) return UtmProjection(epsg - 32700, true);
    return std::nullopt;
}

void UtmProjection::forward(double lon, double lat, double& x, double& y) const {
    x = y = HUGE_VAL;
    if (lon == HUGE_VAL || lat == HUGE_VAL) return; // fwd_prepare of the unitconvert step has none: its x * factor stays HUGE_VAL
    // unitconvert: deg -> rad.
    double lam = lon * deg_to_rad, phi = lat * deg_to_rad;
    // fwd_prepare of utm (input in radians).
    if (HUGE_VAL == lam || HUGE_VAL == phi) return;
    const double t = (phi < 0 ? -phi : phi) - half_pi;
    if (t > eps_lat) return;
    if (lam > 10 || lam < -10) return;
    if (phi > half_pi) phi = half_pi;
    if (phi < -half_pi) phi = -half_pi;
    lam = adjlon(lam);
    lam = (lam - 0.0) - lam0_; // from_greenwich is 0
    lam = adjlon(lam);

    // exact_e_fwd.
    double Cn = gatg(cbg_, order, phi, std::cos(2 * phi), std::sin(2 * phi));
    const double sin_Cn = std::sin(Cn);
    const double cos_Cn = std::cos(Cn);
    const double sin_Ce = std::sin(lam);
    const double cos_Ce = std::cos(lam);
    const double cos_Cn_cos_Ce = cos_Cn * cos_Ce;
    Cn = std::atan2(sin_Cn, cos_Cn_cos_Ce);
    const double inv_denom_tan_Ce = 1. / std::hypot(sin_Cn, cos_Cn_cos_Ce);
    const double tan_Ce = sin_Ce * cos_Cn * inv_denom_tan_Ce;
    double Ce = std::asinh(tan_Ce);
    const double two_inv_denom_tan_Ce = 2 * inv_denom_tan_Ce;
    const double two_inv_denom_tan_Ce_square = two_inv_denom_tan_Ce * inv_denom_tan_Ce;
    const double tmp_r = cos_Cn_cos_Ce * two_inv_denom_tan_Ce_square;
    const double sin_arg_r = sin_Cn * tmp_r;
    const double cos_arg_r = cos_Cn_cos_Ce * tmp_r - 1;
    const double sinh_arg_i = tan_Ce * two_inv_denom_tan_Ce;
    const double cosh_arg_i = two_inv_denom_tan_Ce_square - 1;
    double dCn, dCe;
    Cn += clenS(gtu_, order, sin_arg_r, cos_arg_r, sinh_arg_i, cosh_arg_i, &dCn, &dCe);
    Ce += dCe;
    if (!(std::fabs(Ce) <= 2.623395162778)) return;
    double px = qn_ * Ce, py = qn_ * Cn + zb_;
    if (HUGE_VAL == px) return;
    // fwd_finalize (classic units): times a, then fr_meter (1) * (v + false origin).
    px *= wgs84_a;
    py *= wgs84_a;
    x = 1. * (px + false_easting);
    y = 1. * (py + y0_);
}

void UtmProjection::inverse(double x, double y, double& lon, double& lat) const {
    lon = lat = HUGE_VAL;
    // inv_prepare of utm (classic units).
    if (x == HUGE_VAL || y == HUGE_VAL) return;
    double px = 1. * x - false_easting, py = 1. * y - y0_;
    px *= 1. / wgs84_a; // ra
    py *= 1. / wgs84_a;
    if (HUGE_VAL == px) return;

    // exact_e_inv.
    double Cn = (py - zb_) / qn_;
    double Ce = px / qn_;
    if (!(std::fabs(Ce) <= 2.623395162778)) return;
    const double sin_arg_r = std::sin(2 * Cn);
    const double cos_arg_r = std::cos(2 * Cn);
    const double exp_2_Ce = std::exp(2 * Ce);
    const double half_inv_exp_2_Ce = 0.5 / exp_2_Ce;
    const double sinh_arg_i = 0.5 * exp_2_Ce - half_inv_exp_2_Ce;
    const double cosh_arg_i = 0.5 * exp_2_Ce + half_inv_exp_2_Ce;
    double dCn_ignored, dCe;
    Cn += clenS(utg_, order, sin_arg_r, cos_arg_r, sinh_arg_i, cosh_arg_i, &dCn_ignored, &dCe);
    Ce += dCe;
    const double sin_Cn = std::sin(Cn);
    const double cos_Cn = std::cos(Cn);
    const double sinhCe = std::sinh(Ce);
    Ce = std::atan2(sinhCe, cos_Cn);
    const double modulus_Ce = std::hypot(sinhCe, cos_Cn);
    Cn = std::atan2(sin_Cn, modulus_Ce);
    const double tmp = 2 * modulus_Ce / (sinhCe * sinhCe + 1);
    const double sin_2_Cn = sin_Cn * tmp;
    const double cos_2_Cn = tmp * modulus_Ce - 1.;
    double phi = gatg(cgb_, order, Cn, cos_2_Cn, sin_2_Cn);
    double lam = Ce;
    if (HUGE_VAL == lam) return;
    // inv_finalize (output in radians).
    lam = lam + 0.0 + lam0_;
    lam = adjlon(lam);
    // unitconvert, inverse: rad -> deg.
    lon = lam / deg_to_rad;
    lat = phi / deg_to_rad;
}

void UtmProjection::inverse_bounds(double xmin, double ymin, double xmax, double ymax, int densify, double& west, double& south,
                                   double& east, double& north) const {
    // proj_trans_bounds, direction PJ_INV, projected input, lon/lat output in that order.
    const bool north_pole_in_bounds = xmin < north_pole_x_ && north_pole_x_ < xmax && ymax > north_pole_y_ && north_pole_y_ > ymin;
    const bool south_pole_in_bounds = xmin < south_pole_x_ && south_pole_x_ < xmax && ymax > south_pole_y_ && south_pole_y_ > ymin;
    const int side_pts = densify + 1;
    const int boundary_len = side_pts * 4;
    std::vector<double> xs(static_cast<std::size_t>(boundary_len)), ys(xs.size());
    double* x_boundary_array = xs.data();
    double* y_boundary_array = ys.data();
    const double delta_x = (xmax - xmin) / side_pts;
    const double delta_y = (ymax - ymin) / side_pts;
    for (int iii = 0; iii < side_pts; iii++) {
        y_boundary_array[iii] = ymax - iii * delta_y;
        x_boundary_array[iii] = xmin;
        y_boundary_array[iii + side_pts] = ymin;
        x_boundary_array[iii + side_pts] = xmin + iii * delta_x;
        y_boundary_array[iii + side_pts * 2] = ymin + iii * delta_y;
        x_boundary_array[iii + side_pts * 2] = xmax;
        y_boundary_array[iii + side_pts * 3] = ymax;
        x_boundary_array[iii + side_pts * 3] = xmax - iii * delta_x;
    }
    for (int i = 0; i < boundary_len; ++i) inverse(xs[i], ys[i], xs[i], ys[i]);
    if (north_pole_in_bounds) {
        west = -180;
        south = simple_min(y_boundary_array, boundary_len);
        east = 180;
        north = 90;
    } else if (south_pole_in_bounds) {
        west = -180;
        south = -90;
        east = 180;
        north = simple_max(y_boundary_array, boundary_len);
    } else {
        west = antimeridian_min(x_boundary_array, boundary_len);
        east = antimeridian_max(x_boundary_array, boundary_len);
        south = simple_min(y_boundary_array, boundary_len);
        north = simple_max(y_boundary_array, boundary_len);
    }
}

} // namespace skyscript::imagery
