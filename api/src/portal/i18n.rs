//! The portal's languages: one Fluent catalogue per language in `locales/<tag>/`, compiled
//! into the binary. Each catalogue also carries its language's name and how it writes
//! amounts and dates, so adding a language (Kinyarwanda, say) is adding its directory.
//! A person's choice is kept on their user (or in a cookie before they sign in);
//! `Accept-Language` sets the default.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the portal speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Language(LanguageIdentifier);

impl Language {
    /// English, the fallback.
    pub fn english() -> Language {
        Language(fluent_templates::langid!("en"))
    }

    /// The catalogue's language for a tag such as `fr` or `fr-RW`, if there is one.
    pub fn known(tag: &str) -> Option<Language> {
        let wanted: LanguageIdentifier = tag.trim().parse().ok()?;
        CATALOGUES
            .locales()
            .find(|have| have.language == wanted.language)
            .map(|have| Language(have.clone()))
    }

    /// The best language for an `Accept-Language` header, by its order and weights.
    pub fn negotiate(accept_language: &str) -> Language {
        let mut offered: Vec<(f32, &str)> = accept_language
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let weight = pieces
                    .find_map(|piece| piece.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((weight, tag))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0));
        offered
            .into_iter()
            .filter(|(weight, _)| *weight > 0.0)
            .find_map(|(_, tag)| Language::known(tag))
            .unwrap_or_else(Language::english)
    }

    /// Every language with a catalogue, as (tag, its own name), English first.
    pub fn all() -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = CATALOGUES
            .locales()
            .map(|id| (id.to_string(), Language(id.clone()).text("language-name")))
            .collect();
        all.sort_by_key(|(tag, _)| (tag != "en", tag.clone()));
        all
    }

    /// The tag, as `lang` attributes and the user's row keep it.
    pub fn tag(&self) -> String {
        self.0.to_string()
    }

    /// A message without arguments.
    pub fn text(&self, id: &str) -> String {
        CATALOGUES.lookup(&self.0, id)
    }

    /// A message with named arguments.
    pub fn text_with(&self, id: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        CATALOGUES.lookup_with_args(&self.0, id, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_catalogue_by_weight() {
        assert_eq!(Language::negotiate("fr-FR,fr;q=0.9,en;q=0.8").tag(), "fr");
        assert_eq!(Language::negotiate("de, fr;q=0.5, en;q=0.7").tag(), "en");
        assert_eq!(Language::negotiate("rw, fr;q=0.2").tag(), "fr");
        assert_eq!(Language::negotiate("").tag(), "en");
        assert_eq!(Language::negotiate("fr;q=0").tag(), "en");
    }

    /// Every message id of a language's catalogue files.
    fn message_ids(tag: &str) -> Vec<String> {
        let directory = format!("{}/locales/{tag}", env!("CARGO_MANIFEST_DIR"));
        let mut ids = Vec::new();
        for file in std::fs::read_dir(directory).expect("the catalogue") {
            let text = std::fs::read_to_string(file.expect("a file").path()).expect("readable");
            ids.extend(
                text.lines()
                    .filter(|line| !line.starts_with(['#', ' ']) && line.contains(" ="))
                    .filter_map(|line| line.split(" =").next())
                    .map(str::to_owned),
            );
        }
        ids
    }

    #[test]
    fn every_catalogue_has_every_message_of_the_english_one() {
        let english = message_ids("en");
        assert!(english.len() > 50, "the English catalogue has its messages");
        for (tag, _) in Language::all() {
            let language = Language::known(&tag).expect("a catalogue");
            let ids = message_ids(&tag);
            for id in &english {
                assert!(ids.contains(id), "{tag} lacks `{id}`");
                assert!(!language.text(id).is_empty());
            }
        }
    }
}
