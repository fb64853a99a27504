//! Rwandan mobile numbers decided without `phonenumber`: nearly every payroll line holds one,
//! and reading them with `phonenumber` took most of a large upload's time. The answer is the
//! one `phonenumber` gives; whatever this module is not sure of is left to `phonenumber`.

use super::{Msisdn, Region};

/// Rwanda's country calling code.
const COUNTRY_CODE: &str = "250";

/// Rwanda's national (trunk) prefix, written before a national number: "0788…".
const NATIONAL_PREFIX: &str = "0";

/// What `Msisdn::parse` gives for compacted text that is a Rwandan mobile number: "+2507…",
/// or, read in Rwanda, "2507…", "07…" and "7…" (a leading 0 that a spreadsheet dropped).
/// `None` for anything else, which `phonenumber` then decides.
pub(super) fn mobile(compact: &str, default_region: Region) -> Option<Msisdn> {
    if let Some(international) = compact.strip_prefix('+') {
        return mobile_e164(international);
    }
    if default_region != Region::RW {
        return None;
    }
    let national = compact
        .strip_prefix(COUNTRY_CODE)
        .or_else(|| compact.strip_prefix(NATIONAL_PREFIX))
        .unwrap_or(compact);
    from_national(national)
}

/// What `Msisdn::from_e164` gives for E.164 digits (no '+') of a Rwandan mobile number;
/// `None` for anything else.
pub(super) fn mobile_e164(digits: &str) -> Option<Msisdn> {
    digits.strip_prefix(COUNTRY_CODE).and_then(from_national)
}

/// The MSISDN of `national` if it is the national significant number of a Rwandan mobile as
/// `phonenumber`'s metadata has it (PhoneNumberMetadata.xml, territory RW, `mobile`):
/// `7[237-9]\d{7}`. Such a number matches RW's general pattern and none of its fixed-line,
/// toll-free or premium-rate patterns, so `phonenumber` types it `Mobile`.
fn from_national(national: &str) -> Option<Msisdn> {
    let is_mobile = match national.as_bytes() {
        [b'7', b'2' | b'3' | b'7' | b'8' | b'9', rest @ ..] => {
            rest.len() == 7 && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    is_mobile.then(|| Msisdn([COUNTRY_CODE, national].concat()))
}

#[cfg(test)]
mod tests {
    use std::iter;

    use proptest::prelude::*;
    use proptest::{collection, option, sample};

    use super::*;
    use crate::msisdn::{MsisdnError, compact, read, read_compact};

    /// `Msisdn::parse` as it was before this module: `phonenumber` alone.
    fn parse_with_phonenumber(input: &str, region: Region) -> Result<Msisdn, MsisdnError> {
        compact(input).and_then(|compact| read_compact(&compact, region))
    }

    fn fast(input: &str) -> Option<String> {
        let compact = compact(input).expect("test inputs are digits");
        mobile(&compact, Region::RW).map(|msisdn| msisdn.0)
    }

    #[test]
    fn mtn_and_airtel_numbers_in_every_form_take_the_fast_path() {
        for (input, expected) in [
            ("0788123456", "250788123456"),
            ("+250 795 123 456", "250795123456"),
            ("250722123456", "250722123456"),
            ("732-123-456", "250732123456"),
        ] {
            assert_eq!(fast(input).as_deref(), Some(expected), "{input}");
            let slow = parse_with_phonenumber(input, Region::RW).expect(input);
            assert_eq!(slow.as_str(), expected, "{input}");
        }
    }

    #[test]
    fn numbers_it_is_not_sure_of_are_left_to_phonenumber() {
        for input in [
            "0741234567",    // 074: no Rwandan operator, not a mobile number
            "078812345",     // one digit short
            "07881234567",   // one digit long
            "2507881234567", // one digit long after the country code
            "0252123456",    // a fixed line
            "+256701234567", // Uganda
            "46733123450",   // MTN's sandbox number, Swedish
        ] {
            assert_eq!(fast(input), None, "{input}");
        }
        assert!(matches!(
            Msisdn::parse("0741234567", Region::RW),
            Err(MsisdnError::Invalid)
        ));
        assert!(Msisdn::parse("078812345", Region::RW).is_err());
        assert!(Msisdn::parse("07881234567", Region::RW).is_err());
    }

    #[test]
    fn national_forms_take_the_fast_path_only_in_rwanda() {
        let compact = compact("0788123456").expect("digits");
        assert_eq!(mobile(&compact, Region::UG), None);
        assert!(mobile("+250788123456", Region::UG).is_some());
    }

    /// Guards against a `phonenumber` upgrade whose metadata moves Rwanda's mobile ranges:
    /// the fast path must then be updated, as this test will say.
    #[test]
    fn fast_path_takes_exactly_the_7x_ranges_phonenumber_calls_mobile() {
        for second in '0'..='9' {
            for tail in ["0000000", "1234567", "9999999"] {
                let digits = format!("2507{second}{tail}");
                let slow = read(None, &format!("+{digits}")).ok();
                assert_eq!(mobile_e164(&digits), slow, "{digits}");
            }
        }
    }

    /// Text as people type it into a payroll: a prefix, often Rwandan, then random digits to a
    /// total of 6 to 16 (often the 9, 10 and 12 of "7…", "07…" and "250…"), sometimes with
    /// spaces or dashes between the characters.
    fn phone_like() -> impl Strategy<Value = String> {
        let prefixes: &[&str] = &[
            "+250", "250", "07", "2507", "+2507", "7", "+256", "+46", "0", "+", "",
        ];
        let lengths = prop_oneof![Just(9_usize), Just(10), Just(12), 6_usize..=16];
        let digits = collection::vec(0_u8..10, 16);
        let separators =
            collection::vec(option::weighted(0.1, sample::select(&[' ', '-'][..])), 17);
        (sample::select(prefixes), lengths, digits, separators).prop_map(
            |(prefix, length, digits, separators)| {
                let random = length.saturating_sub(prefix.trim_start_matches('+').len());
                let digits = digits
                    .iter()
                    .take(random)
                    .map(|digit| char::from(b'0' + digit));
                prefix
                    .chars()
                    .chain(digits)
                    .zip(separators)
                    .flat_map(|(character, separator)| {
                        separator.into_iter().chain(iter::once(character))
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        #[test]
        fn parse_gives_what_phonenumber_alone_gives(
            input in phone_like(),
            region in prop_oneof![3 => Just(Region::RW), 1 => Just(Region::UG)],
        ) {
            // Debug compares the value, or the error down to `phonenumber`'s own error.
            let with_fast_path = format!("{:?}", Msisdn::parse(&input, region));
            let without = format!("{:?}", parse_with_phonenumber(&input, region));
            prop_assert_eq!(with_fast_path, without, "{:?} in {:?}", input, region);
        }

        #[test]
        fn from_e164_gives_what_phonenumber_alone_gives(
            prefix in sample::select(&["250", "2507", "256", "46", "1", ""][..]),
            digits in collection::vec(0_u8..10, 1..=12),
        ) {
            let digits: String = prefix
                .chars()
                .chain(digits.iter().map(|digit| char::from(b'0' + digit)))
                .collect();
            let with_fast_path = format!("{:?}", Msisdn::from_e164(&digits));
            let without = format!("{:?}", read(None, &format!("+{digits}")));
            prop_assert_eq!(with_fast_path, without, "{:?}", digits);
        }
    }
}
