#pragma once
// Calendar dates as whole days since 1970-01-01 (proleptic Gregorian), so
// that date arithmetic across months, years and leap days is subtraction.
// Howard Hinnant's days_from_civil / civil_from_days algorithms.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace needle {

// Days since 1970-01-01 of a valid year-month-day; negative before it.
int64_t DaysFromCivil(int year, int month, int day);

// "YYYY-MM-DD" of a day number.
std::string DateFromDays(int64_t days);

// The day number of "YYYY-MM-DD" (exactly that shape, four-digit year),
// or nullopt when the text is not a real calendar date ("2027-02-29",
// "2027-6-1", "2027-06-01T00:00").
std::optional<int64_t> DaysFromDate(std::string_view text);

// The same day `years` calendar years later; 29 February becomes
// 28 February in a year without one.
int64_t AddYears(int64_t days, int years);

}  // namespace needle
