//! A report's period, read as a finance officer writes it: dates in the merchant's time
//! zone (`to` includes its whole day), or exact times with their offset. It is stated back
//! with its time zone, and bounded so that a report stays a report.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use crate::app::AppError;

/// The longest period a report covers: a year and a day, so a leap year's year fits.
pub const PERIOD_DAYS_MAX: i64 = 366;

/// `[from, to)` in a time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The IANA name the period is stated in.
    pub time_zone: String,
    zone: TimeZone,
}

impl Period {
    /// Reads `from` and `to` (each a date, a local date and time, or an RFC 3339 time) in
    /// `time_zone`.
    pub fn parse(from: &str, to: &str, time_zone: &str) -> Result<Period, AppError> {
        let zone = zone(time_zone)?;
        let from_at = instant("from", from, &zone, false)?;
        let to_at = instant("to", to, &zone, true)?;
        Period::new(from_at, to_at, time_zone)
    }

    /// A period between two instants, stated in `time_zone`.
    pub fn new(from: Timestamp, to: Timestamp, time_zone: &str) -> Result<Period, AppError> {
        let zone = zone(time_zone)?;
        if from >= to {
            return Err(AppError::invalid_field("to", "must be after `from`"));
        }
        let longest = from
            .to_zoned(zone.clone())
            .checked_add(PERIOD_DAYS_MAX.days())
            .map_err(AppError::internal)?;
        if to > longest.timestamp() {
            return Err(AppError::invalid_field(
                "to",
                format!("a report covers at most {PERIOD_DAYS_MAX} days; ask for several periods"),
            ));
        }
        Ok(Period {
            from,
            to,
            time_zone: time_zone.to_owned(),
            zone,
        })
    }

    /// An instant in the period's time zone.
    pub fn local(&self, at: Timestamp) -> Zoned {
        at.to_zoned(self.zone.clone())
    }

    /// As a person reads it: "2026-11-01 to 2026-11-30 (Africa/Kigali)" for whole days,
    /// the times otherwise.
    pub fn describe(&self) -> String {
        let from = self.local(self.from);
        let to = self.local(self.to);
        let midnight = |at: &Zoned| at.time() == jiff::civil::Time::midnight();
        if midnight(&from) && midnight(&to) {
            let last = to.date().yesterday().unwrap_or(to.date());
            format!("{} to {} ({})", from.date(), last, self.time_zone)
        } else {
            format!(
                "{} to {} ({})",
                from.strftime("%Y-%m-%d %H:%M:%S"),
                to.strftime("%Y-%m-%d %H:%M:%S"),
                self.time_zone
            )
        }
    }
}

/// The time zone called `name` (IANA), or why not.
pub fn zone(name: &str) -> Result<TimeZone, AppError> {
    TimeZone::get(name).map_err(|_| {
        AppError::invalid_field(
            "time_zone",
            format!("{name:?} is not an IANA time zone such as Africa/Kigali"),
        )
    })
}

/// One end of a period: `end` takes a date as the end of that day.
pub(crate) fn instant(
    field: &str,
    text: &str,
    zone: &TimeZone,
    end: bool,
) -> Result<Timestamp, AppError> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    // A date alone means its day; jiff would also read a date out of a local time.
    let has_time = text.contains(['T', 't', ' ']);
    let local = if has_time {
        text.parse::<DateTime>().ok()
    } else {
        text.parse::<Date>().ok().and_then(|date| {
            let day = if end { date.tomorrow().ok()? } else { date };
            Some(day.to_datetime(jiff::civil::Time::midnight()))
        })
    };
    local
        .and_then(|local| local.to_zoned(zone.clone()).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            AppError::invalid_field(
                field,
                format!(
                    "{text:?} is not a date (2026-11-01), a local time (2026-11-01T08:00) or an RFC 3339 time (2026-11-01T08:00:00+02:00)"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIGALI: &str = "Africa/Kigali";

    #[test]
    fn dates_are_whole_days_in_the_merchant_s_time_zone() {
        let period = Period::parse("2026-11-01", "2026-11-30", KIGALI).expect("a period");
        assert_eq!(period.from.to_string(), "2026-10-31T22:00:00Z");
        assert_eq!(period.to.to_string(), "2026-11-30T22:00:00Z");
        assert_eq!(
            period.describe(),
            "2026-11-01 to 2026-11-30 (Africa/Kigali)"
        );
    }

    #[test]
    fn times_with_an_offset_are_exact() {
        let period =
            Period::parse("2026-11-01T08:00:00Z", "2026-11-01T11:30", KIGALI).expect("a period");
        assert_eq!(period.from.to_string(), "2026-11-01T08:00:00Z");
        assert_eq!(period.to.to_string(), "2026-11-01T09:30:00Z");
        assert!(Period::parse("2026-11-01T10:00", "2026-11-01T09:30", KIGALI).is_err());
    }

    #[test]
    fn bad_periods_are_refused_with_the_field_at_fault() {
        let field = |error: AppError| match error {
            AppError::Invalid { errors, .. } => errors[0].field.clone(),
            other => panic!("{other:?}"),
        };
        let refused = |from, to, zone| field(Period::parse(from, to, zone).expect_err("refused"));
        assert_eq!(refused("2026-12-01", "2026-11-01", KIGALI), "to");
        assert_eq!(refused("2025-01-01", "2026-06-30", KIGALI), "to");
        assert_eq!(refused("yesterday", "2026-11-01", KIGALI), "from");
        assert_eq!(
            refused("2026-11-01", "2026-11-02", "Mars/Olympus"),
            "time_zone"
        );
        assert!(Period::parse("2024-01-01", "2024-12-31", KIGALI).is_ok());
    }
}
