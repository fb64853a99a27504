//! Amounts, counts and times as each language writes them: the separators and patterns
//! come from the language's catalogue (`number-group`, `number-decimal`, `amount`,
//! `datetime-format`, `date-format`), so a new catalogue brings its own.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use payrail_engine::money::{Amount, Currency};

use super::i18n::Language;

/// How one language writes numbers and times.
#[derive(Clone, Debug)]
pub struct Formats {
    language: Language,
    group: String,
    decimal: String,
    datetime: String,
    date: String,
}

impl Formats {
    pub fn of(language: &Language) -> Formats {
        Formats {
            language: language.clone(),
            group: language.text("number-group"),
            decimal: language.text("number-decimal"),
            datetime: language.text("datetime-format"),
            date: language.text("date-format"),
        }
    }

    /// A whole number with its thousands grouped: "1,234,500" or "1 234 500".
    pub fn count(&self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push_str(&self.group);
            }
            grouped.push(digit);
        }
        if value < 0 {
            format!("−{grouped}")
        } else {
            grouped
        }
    }

    /// Minor units of `currency` in its major unit, grouped, without the currency.
    pub fn minor(&self, minor: i64, currency: Currency) -> String {
        let exponent = currency.exponent();
        if exponent == 0 {
            return self.count(minor);
        }
        let divisor = 10_i64.pow(exponent);
        let whole = self.count(minor / divisor);
        let whole = if minor < 0 && !whole.starts_with('−') {
            format!("−{whole}")
        } else {
            whole
        };
        let width = exponent as usize;
        format!(
            "{whole}{}{:0width$}",
            self.decimal,
            (minor % divisor).unsigned_abs()
        )
    }

    /// An amount with its currency, in the language's order: "RWF 1,500" or "1 500 RWF".
    pub fn money(&self, minor: i64, currency: Currency) -> String {
        self.language.text_with(
            "amount",
            &[
                ("amount", self.minor(minor, currency)),
                ("currency", currency.code().to_owned()),
            ],
        )
    }

    /// An `Amount` with its currency.
    pub fn amount(&self, amount: Amount, currency: Currency) -> String {
        self.money(amount.minor(), currency)
    }

    /// A moment in the merchant's time zone, to the minute.
    pub fn time(&self, at: Timestamp, zone: &TimeZone) -> String {
        at.to_zoned(zone.clone())
            .strftime(&self.datetime)
            .to_string()
    }

    /// A day in the merchant's time zone.
    pub fn day(&self, at: Timestamp, zone: &TimeZone) -> String {
        at.to_zoned(zone.clone()).strftime(&self.date).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_french_write_the_same_amount_their_own_way() {
        let english = Formats::of(&Language::english());
        let french = Formats::of(&Language::known("fr").expect("French"));
        assert_eq!(english.money(1_234_500, Currency::Rwf), "RWF 1,234,500");
        assert_eq!(
            french.money(1_234_500, Currency::Rwf),
            "1\u{202f}234\u{202f}500 RWF"
        );
        assert_eq!(english.money(123_456, Currency::Eur), "EUR 1,234.56");
        assert_eq!(french.money(123_405, Currency::Eur), "1\u{202f}234,05 EUR");
        assert_eq!(english.count(999), "999");
        assert_eq!(english.count(-1000), "−1,000");
    }

    #[test]
    fn times_are_written_in_the_merchants_zone() {
        let at: Timestamp = "2026-12-03T10:05:00Z".parse().expect("a time");
        let kigali = TimeZone::get("Africa/Kigali").expect("a zone");
        let english = Formats::of(&Language::english());
        let french = Formats::of(&Language::known("fr").expect("French"));
        assert_eq!(english.time(at, &kigali), "3 Dec 2026, 12:05");
        assert_eq!(french.time(at, &kigali), "03/12/2026 12:05");
    }
}
