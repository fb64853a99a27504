//! Cells as text: amounts in the major unit (plain for CSV, with thousands separators for
//! people), counts, and times, all with integer arithmetic only.

use std::fmt::Write as _;

use super::Cell;

/// How a number is written: `Plain` for machines ("1500000", "-12.50"), `Grouped` for people
/// ("1,500,000", "-12.50").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Digits {
    Plain,
    Grouped,
}

/// Appends the cell's text to `out`; `exponent` is its column's (0 for other kinds).
pub(super) fn write_cell(out: &mut String, cell: &Cell, exponent: u32, digits: Digits) {
    match cell {
        Cell::Text(text) => out.push_str(text),
        Cell::Amount(minor) => write_amount(out, *minor, exponent, digits),
        Cell::Count(count) => write_amount(out, *count, 0, digits),
        Cell::Time(time) => write_time(out, *time),
        Cell::Empty => {}
    }
}

/// `minor` in the major unit with exactly `exponent` decimals: 1250 at exponent 2 is
/// "12.50"; -5 is "-0.05". `exponent` is at most `AMOUNT_EXPONENT_MAX`.
pub(super) fn write_amount(out: &mut String, minor: i64, exponent: u32, digits: Digits) {
    let divisor = 10_u64.pow(exponent);
    let magnitude = minor.unsigned_abs();
    if minor < 0 {
        out.push('-');
    }
    write_whole(out, magnitude / divisor, digits);
    if exponent > 0 {
        let width = exponent as usize;
        write!(out, ".{:0width$}", magnitude % divisor).expect("writing to a String cannot fail");
    }
}

fn write_whole(out: &mut String, whole: u64, digits: Digits) {
    let decimal = whole.to_string();
    if digits == Digits::Plain {
        out.push_str(&decimal);
        return;
    }
    for (index, digit) in decimal.chars().enumerate() {
        if index > 0 && (decimal.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
}

/// "2026-11-03 14:05:09": seconds always, no fraction, no time zone (a header names it).
pub(super) fn write_time(out: &mut String, time: jiff::civil::DateTime) {
    write!(out, "{}", time.strftime("%Y-%m-%d %H:%M:%S")).expect("writing to a String cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(minor: i64, exponent: u32, digits: Digits) -> String {
        let mut out = String::new();
        write_amount(&mut out, minor, exponent, digits);
        out
    }

    #[test]
    fn plain_amounts_have_exactly_the_exponent_decimals_and_no_separators() {
        assert_eq!(amount(1_500_000, 0, Digits::Plain), "1500000");
        assert_eq!(amount(1250, 2, Digits::Plain), "12.50");
        assert_eq!(amount(5, 2, Digits::Plain), "0.05");
        assert_eq!(amount(-5, 2, Digits::Plain), "-0.05");
        assert_eq!(amount(0, 0, Digits::Plain), "0");
        assert_eq!(amount(12_345, 4, Digits::Plain), "1.2345");
    }

    #[test]
    fn grouped_amounts_separate_thousands_of_the_whole_part_only() {
        assert_eq!(amount(1_500_000, 0, Digits::Grouped), "1,500,000");
        assert_eq!(amount(150_000, 0, Digits::Grouped), "150,000");
        assert_eq!(amount(999, 0, Digits::Grouped), "999");
        assert_eq!(amount(123_456_789, 2, Digits::Grouped), "1,234,567.89");
        assert_eq!(amount(-100_000_050, 2, Digits::Grouped), "-1,000,000.50");
    }

    #[test]
    fn the_most_negative_amount_is_written_without_overflow() {
        assert_eq!(
            amount(i64::MIN, 0, Digits::Grouped),
            "-9,223,372,036,854,775,808"
        );
    }

    #[test]
    fn times_are_written_to_the_second() {
        let mut out = String::new();
        write_time(&mut out, jiff::civil::date(2026, 11, 3).at(14, 5, 9, 500));
        assert_eq!(out, "2026-11-03 14:05:09");
    }

    #[test]
    fn empty_cells_are_written_as_nothing() {
        let mut out = String::new();
        write_cell(&mut out, &Cell::Empty, 0, Digits::Grouped);
        assert_eq!(out, "");
    }
}
