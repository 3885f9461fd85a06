#pragma once
// The report's charts as inline SVG text: no scripts, no fonts or files
// fetched, fixed decimals, so the same numbers draw the same bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace needle {

// 3 significant digits with a suffix: 950, 1.23K, 45.6M, 1.40T, 2.00P;
// scientific past 1e18 ("5.88e+23").
std::string ShortNumber(double value);

// Escapes & < > " ' for HTML and SVG text and attributes.
std::string EscapeHtml(std::string_view text);

struct Bar {
  std::string label;
  double value = 0;
  std::string note;  // printed after the value, e.g. where it comes from
};

// Horizontal bars, one row each, scaled to the largest value.
std::string BarChartSvg(std::string_view title, const std::vector<Bar>& bars,
                        std::string_view color);

struct Estimate {
  std::string label;
  double value = 0;          // a share in [0, 1]; NaN when there is none
  double low = 0, high = 0;  // its interval
  std::string note;          // printed after the numbers
};

// Shares on a fixed 0 to 1 scale, one row each: a bar to the value with a
// whisker over its interval (a precision and its confidence interval),
// the numbers as "0.812 [0.702, 0.889]". A row without a value shows its
// note alone.
std::string IntervalChartSvg(std::string_view title,
                             const std::vector<Estimate>& rows,
                             std::string_view color);

struct ChartPoint {
  int64_t day = 0;
  double value = 0;
};

struct Series {
  std::string name;
  std::vector<ChartPoint> points;
  std::string color;
  bool dashed = false;
  bool steps = false;  // a step function: each value holds until the next
};

struct Mark {
  ChartPoint at;
  std::string label;
  bool alarm = false;  // drawn red: a run the supply cannot cover
};

// Values over time on a log scale, from `first_day` to `last_day`: lines
// for the series, dots for the marks, and a red vertical line with its
// date at `alarm_day` when it is in range (the day demand overtakes
// supply).
std::string TimeChartSvg(std::string_view title, int64_t first_day,
                         int64_t last_day, const std::vector<Series>& series,
                         const std::vector<Mark>& marks,
                         std::optional<int64_t> alarm_day,
                         std::string_view alarm_label);

}  // namespace needle
