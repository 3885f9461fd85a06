#include "pipeline/report_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "pipeline/civil_date.h"

namespace needle {

std::string ShortNumber(double value) {
  if (!std::isfinite(value)) return "n/a";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e18) return fmt::format("{:.2e}", value);
  if (magnitude < 1000) {
    return value == std::floor(value) ? fmt::format("{:.0f}", value)
                                      : fmt::format("{:.3g}", value);
  }
  constexpr const char* kSuffixes[] = {"K", "M", "B", "T", "P"};
  int step = 0;
  double scaled = value / 1000;
  while (std::fabs(scaled) >= 999.95 && step < 4) {
    scaled /= 1000;
    ++step;
  }
  const int decimals = std::fabs(scaled) >= 99.95   ? 0
                       : std::fabs(scaled) >= 9.995 ? 1
                                                    : 2;
  return fmt::format("{:.{}f}{}", scaled, decimals, kSuffixes[step]);
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

constexpr int kWidth = 760;
constexpr const char* kFont = "font-family=\"sans-serif\" font-size=\"12\"";

// An <svg> element's start, kWidth wide, with `title` for screen readers.
std::string SvgStart(int height, std::string_view title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" "
      "height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">"
      "<title>{2}</title>\n",
      kWidth, height, EscapeHtml(title));
}

}  // namespace

std::string BarChartSvg(std::string_view title, const std::vector<Bar>& bars,
                        std::string_view color) {
  constexpr int kRow = 24;
  constexpr int kLabelWidth = 190;
  constexpr int kBarWidth = 330;
  const int height = kRow * static_cast<int>(bars.size()) + 8;
  double largest = 0;
  for (const Bar& bar : bars) largest = std::max(largest, bar.value);
  std::string svg = SvgStart(height, title);
  auto out = std::back_inserter(svg);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const int y = 4 + kRow * static_cast<int>(i);
    const double width =
        largest > 0 ? std::max(0.0, bar.value) / largest * kBarWidth : 0;
    fmt::format_to(out,
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" {}>{}</text>",
                   kLabelWidth - 8, y + 15, kFont, EscapeHtml(bar.label));
    fmt::format_to(out,
                   "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
                   "fill=\"{}\"/>",
                   kLabelWidth, y + 3, width, kRow - 6, color);
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{}\" {}>{}{}</text>\n",
                   kLabelWidth + width + 6, y + 15, kFont,
                   EscapeHtml(ShortNumber(bar.value)),
                   bar.note.empty() ? "" : "  " + EscapeHtml(bar.note));
  }
  svg += "</svg>\n";
  return svg;
}

std::string IntervalChartSvg(std::string_view title,
                             const std::vector<Estimate>& rows,
                             std::string_view color) {
  constexpr int kRow = 24;
  constexpr int kLabelWidth = 190;
  constexpr int kBarWidth = 330;
  constexpr int kAxis = 18;  // the 0, 0.5 and 1 ticks below the rows
  const int height = kRow * static_cast<int>(rows.size()) + 8 + kAxis;
  const int bottom = 4 + kRow * static_cast<int>(rows.size());
  std::string svg = SvgStart(height, title);
  auto out = std::back_inserter(svg);
  auto x = [&](double share) {
    return kLabelWidth + std::clamp(share, 0.0, 1.0) * kBarWidth;
  };
  for (const double tick : {0.0, 0.5, 1.0}) {
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"4\" x2=\"{0:.1f}\" y2=\"{1}\" "
                   "stroke=\"#ccc\"/><text x=\"{0:.1f}\" y=\"{2}\" "
                   "text-anchor=\"middle\" {3}>{4}</text>\n",
                   x(tick), bottom, bottom + 14, kFont, tick);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const Estimate& row = rows[i];
    const int y = 4 + kRow * static_cast<int>(i);
    fmt::format_to(out,
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" {}>{}</text>",
                   kLabelWidth - 8, y + 15, kFont, EscapeHtml(row.label));
    std::string text = row.note;
    double text_x = kLabelWidth + 6;
    if (!std::isnan(row.value)) {
      const int middle = y + kRow / 2;
      fmt::format_to(out,
                     "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" "
                     "height=\"{}\" fill=\"{}\"/>",
                     kLabelWidth, y + 3, x(row.value) - kLabelWidth, kRow - 6,
                     color);
      // The whisker: a line over the interval with a cap at each end.
      fmt::format_to(out,
                     "<path d=\"M{0:.1f} {1}H{2:.1f}M{0:.1f} {3}V{4}M{2:.1f} "
                     "{3}V{4}\" stroke=\"#222\" stroke-width=\"1.5\" "
                     "fill=\"none\"/>",
                     x(row.low), middle, x(row.high), middle - 5, middle + 5);
      text = fmt::format("{:.3f} [{:.3f}, {:.3f}]{}", row.value, row.low,
                         row.high, row.note.empty() ? "" : "  " + row.note);
      text_x = std::max(x(row.value), x(row.high)) + 6;
    }
    fmt::format_to(out, "<text x=\"{:.1f}\" y=\"{}\" {}>{}</text>\n", text_x,
                   y + 15, kFont, EscapeHtml(text));
  }
  svg += "</svg>\n";
  return svg;
}

namespace {

// Maps days and values to the plot area; values on a log10 scale between
// whole decades that hold every positive value drawn.
class TimeScale {
 public:
  static constexpr int kLeft = 64, kRight = 170, kTop = 28, kBottom = 34;
  static constexpr int kHeight = 320;

  TimeScale(int64_t first_day, int64_t last_day, double low, double high)
      : first_(first_day), last_(std::max(last_day, first_day + 1)) {
    if (!(low > 0)) low = high > 0 ? high / 10 : 1;
    if (!(high > 0)) high = low * 10;
    bottom_decade_ = std::floor(std::log10(low));
    top_decade_ = std::max(std::ceil(std::log10(high)), bottom_decade_ + 1);
  }
  double X(int64_t day) const {
    const double share =
        static_cast<double>(day - first_) / static_cast<double>(last_ - first_);
    return kLeft + share * (kWidth - kLeft - kRight);
  }
  // Values at or below zero sit on the bottom axis.
  double Y(double value) const {
    const double decade = value > 0
                              ? std::max(std::log10(value), bottom_decade_)
                              : bottom_decade_;
    const double share =
        (decade - bottom_decade_) / (top_decade_ - bottom_decade_);
    return kHeight - kBottom - share * (kHeight - kTop - kBottom);
  }
  int bottom_decade() const { return static_cast<int>(bottom_decade_); }
  int top_decade() const { return static_cast<int>(top_decade_); }

 private:
  int64_t first_, last_;
  double bottom_decade_, top_decade_;
};

void DrawAxes(const TimeScale& scale, int64_t first_day, int64_t last_day,
              std::string* svg) {
  auto out = std::back_inserter(*svg);
  const double left = TimeScale::kLeft;
  const double right = kWidth - TimeScale::kRight;
  for (int decade = scale.bottom_decade(); decade <= scale.top_decade();
       ++decade) {
    const double y = scale.Y(std::pow(10.0, decade));
    fmt::format_to(out,
                   "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" "
                   "y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" "
                   "{}>{}</text>\n",
                   left, y, right, y, left - 6, y + 4, kFont,
                   ShortNumber(std::pow(10.0, decade)));
  }
  // A tick on 1 January of each year, thinned to at most about 12 labels.
  const int first_year = std::stoi(DateFromDays(first_day).substr(0, 4));
  const int last_year = std::stoi(DateFromDays(last_day).substr(0, 4));
  const int every = std::max(1, (last_year - first_year) / 12 + 1);
  for (int year = first_year + 1; year <= last_year; ++year) {
    if ((year - first_year) % every != 0) continue;
    const double x = scale.X(DaysFromCivil(year, 1, 1));
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" "
                   "y2=\"{2}\" stroke=\"#eee\"/>"
                   "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" "
                   "{4}>{5}</text>\n",
                   x, TimeScale::kTop, TimeScale::kHeight - TimeScale::kBottom,
                   TimeScale::kHeight - TimeScale::kBottom + 16, kFont, year);
  }
  fmt::format_to(out,
                 "<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
                 "fill=\"none\" stroke=\"#888\"/>\n",
                 left, TimeScale::kTop, right - left,
                 TimeScale::kHeight - TimeScale::kTop - TimeScale::kBottom);
}

std::string SeriesPath(const TimeScale& scale, const Series& series) {
  std::string d;
  auto out = std::back_inserter(d);
  for (size_t i = 0; i < series.points.size(); ++i) {
    const ChartPoint& p = series.points[i];
    if (series.steps && i > 0) {
      fmt::format_to(out, " L{:.1f},{:.1f}", scale.X(p.day),
                     scale.Y(series.points[i - 1].value));
    }
    fmt::format_to(out, "{}{:.1f},{:.1f}", i == 0 ? "M" : " L", scale.X(p.day),
                   scale.Y(p.value));
  }
  return d;
}

}  // namespace

std::string TimeChartSvg(std::string_view title, int64_t first_day,
                         int64_t last_day, const std::vector<Series>& series,
                         const std::vector<Mark>& marks,
                         std::optional<int64_t> alarm_day,
                         std::string_view alarm_label) {
  double low = 0;
  double high = 0;
  auto widen = [&](double value) {
    if (!(value > 0) || !std::isfinite(value)) return;
    low = low > 0 ? std::min(low, value) : value;
    high = std::max(high, value);
  };
  for (const Series& s : series) {
    for (const ChartPoint& p : s.points) widen(p.value);
  }
  for (const Mark& mark : marks) widen(mark.at.value);
  const TimeScale scale(first_day, last_day, low, high);

  std::string svg = SvgStart(TimeScale::kHeight, title);
  fmt::format_to(std::back_inserter(svg),
                 "<text x=\"{}\" y=\"16\" {} font-weight=\"bold\">{}</text>\n",
                 TimeScale::kLeft, kFont, EscapeHtml(title));
  auto out = std::back_inserter(svg);
  DrawAxes(scale, first_day, last_day, &svg);
  double legend_y = TimeScale::kTop + 12;
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    fmt::format_to(out,
                   "<path d=\"{}\" fill=\"none\" stroke=\"{}\" "
                   "stroke-width=\"2\"{}/>\n",
                   SeriesPath(scale, s), s.color,
                   s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    const double x = kWidth - TimeScale::kRight + 10;
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" "
                   "y2=\"{1:.1f}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>"
                   "<text x=\"{5:.1f}\" y=\"{6:.1f}\" {7}>{8}</text>\n",
                   x, legend_y, x + 22, s.color,
                   s.dashed ? " stroke-dasharray=\"6 4\"" : "", x + 28,
                   legend_y + 4, kFont, EscapeHtml(s.name));
    legend_y += 18;
  }
  for (const Mark& mark : marks) {
    const double x = scale.X(mark.at.day);
    const double y = scale.Y(mark.at.value);
    fmt::format_to(out,
                   "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"/>"
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-family=\"sans-serif\" "
                   "font-size=\"10\">{}</text>\n",
                   x, y, mark.alarm ? "#c0392b" : "#2c3e50", x + 6, y - 6,
                   EscapeHtml(mark.label));
  }
  if (alarm_day && *alarm_day >= first_day && *alarm_day <= last_day) {
    const double x = scale.X(*alarm_day);
    fmt::format_to(out,
                   "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
                   "stroke=\"#c0392b\" stroke-width=\"2\" "
                   "stroke-dasharray=\"3 3\"/>"
                   "<text x=\"{3:.1f}\" y=\"{4}\" {5} fill=\"#c0392b\">"
                   "{6}</text>\n",
                   x, TimeScale::kTop, TimeScale::kHeight - TimeScale::kBottom,
                   x + 4, TimeScale::kTop + 14, kFont, EscapeHtml(alarm_label));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace needle
