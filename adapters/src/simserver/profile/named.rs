//! The built-in profiles, by name: the TOML files of `adapters/profiles/`, compiled in so
//! that `payrail simulate --profile mtn-documented` needs no file.

use super::SimServerProfile;

/// Every built-in profile: its name and its TOML.
const BUILT_IN: [(&str, &str); 3] = [
    ("default", include_str!("../../../profiles/default.toml")),
    (
        "mtn-documented",
        include_str!("../../../profiles/mtn-documented.toml"),
    ),
    ("hostile", include_str!("../../../profiles/hostile.toml")),
];

impl SimServerProfile {
    /// The built-in profile called `name` (one of `names()`), if there is one.
    #[must_use]
    pub fn named(name: &str) -> Option<SimServerProfile> {
        let (_, text) = BUILT_IN.iter().find(|(known, _)| *known == name)?;
        let profile = SimServerProfile::from_toml(text).expect("a built-in profile is valid");
        Some(profile)
    }

    /// The names of the built-in profiles.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::Latency;

    #[test]
    fn every_built_in_profile_loads_and_others_are_unknown() {
        for name in SimServerProfile::names() {
            assert!(SimServerProfile::named(name).is_some(), "{name}");
        }
        assert_eq!(
            SimServerProfile::named("default"),
            Some(SimServerProfile::default())
        );
        assert_eq!(SimServerProfile::named("mtn"), None);
    }

    #[test]
    fn mtn_documented_is_mtn_as_documented() {
        let profile = SimServerProfile::named("mtn-documented").expect("built in");
        assert_eq!(profile.status_queries_per_second, 10);
        assert_eq!(
            profile.latency,
            Latency::LogNormal {
                median_ms: 120,
                sigma: 0.5
            }
        );
        assert_eq!(profile.pending_ms, 0);
        let callbacks = profile.callbacks;
        assert_eq!(callbacks.drop_ppm, 20_000);
        assert_eq!(callbacks.duplicate_ppm, 10_000);
        assert_eq!(callbacks.reason_as_string_ppm, 500_000);
        assert!((1..=10_000).contains(&callbacks.omit_reference_id_ppm));
        assert_eq!(callbacks.retries_max, 50);
        assert!((callbacks.retry_scale - 1.0).abs() < f64::EPSILON);
        assert_eq!(profile.faults, SimServerProfile::default().faults);
    }
}
