//! The bundled fonts (Liberation Sans, SIL Open Font License, see `engine/fonts`) and a
//! character → glyph table for each, read once with skrifa, so that a cell's text becomes
//! positioned glyphs without shaping: shaping every cell of a 100,000-row report is what
//! made the PDF slow. Report text is Latin-script data (names, references, numbers), for
//! which one glyph per character at its nominal advance is what a shaper would produce,
//! kerning aside.

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

static REGULAR_TTF: &[u8] = include_bytes!("../../../fonts/LiberationSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../../fonts/LiberationSans-Bold.ttf");

/// Characters looked up once, when the typeface is loaded: Basic Latin to Latin
/// Extended-B. Others are looked up in the font's cmap each time they are drawn.
const TABLE_CHARS: u32 = 0x250;

#[derive(Clone, Copy, Debug)]
struct Glyph {
    id: GlyphId,
    /// In ems: multiplied by the font size it gives points.
    advance: f32,
}

/// One font, ready to draw and measure.
pub(super) struct Typeface {
    font: Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    table: Vec<Glyph>,
}

impl Typeface {
    pub(super) fn regular() -> Typeface {
        Typeface::load(REGULAR_TTF)
    }

    pub(super) fn bold() -> Typeface {
        Typeface::load(BOLD_TTF)
    }

    fn load(ttf: &'static [u8]) -> Typeface {
        let font = Font::new(ttf.into(), 0).expect("the bundled font is a valid TrueType font");
        let font_ref = FontRef::new(ttf).expect("the bundled font is a valid TrueType font");
        // A size of one pixel per em gives advances in ems.
        let metrics = font_ref.glyph_metrics(Size::new(1.0), LocationRef::default());
        let mut typeface = Typeface {
            font,
            charmap: font_ref.charmap(),
            metrics,
            table: Vec::new(),
        };
        typeface.table = (0..TABLE_CHARS)
            .map(|code| typeface.look_up(char::from_u32(code).expect("below the surrogates")))
            .collect();
        typeface
    }

    pub(super) fn font(&self) -> Font {
        self.font.clone()
    }

    fn glyph(&self, ch: char) -> Glyph {
        match self.table.get(ch as usize) {
            Some(glyph) => *glyph,
            None => self.look_up(ch),
        }
    }

    /// The font's glyph for `ch`, or its "missing" glyph (id 0) if it has none.
    fn look_up(&self, ch: char) -> Glyph {
        let id = self.charmap.map(ch).unwrap_or(skrifa::GlyphId::NOTDEF);
        Glyph {
            id: GlyphId::new(id.to_u32()),
            advance: self.metrics.advance_width(id).unwrap_or_default(),
        }
    }

    /// The width of `text` in ems.
    pub(super) fn width_em(&self, text: &str) -> f32 {
        text.chars().map(|ch| self.glyph(ch).advance).sum()
    }

    /// The width of one character in ems.
    pub(super) fn char_width_em(&self, ch: char) -> f32 {
        self.glyph(ch).advance
    }

    /// Replaces `glyphs` with one glyph per character of `text`, each tied to its
    /// character's bytes so that the text can be copied and searched in the PDF.
    pub(super) fn glyph_run(&self, text: &str, glyphs: &mut Vec<KrillaGlyph>) {
        glyphs.clear();
        glyphs.extend(text.char_indices().map(|(start, ch)| {
            let glyph = self.glyph(ch);
            let range = start..start + ch.len_utf8();
            KrillaGlyph::new(glyph.id, glyph.advance, 0.0, 0.0, 0.0, range, None)
        }));
    }
}
