//! Drawing on one PDF page: a line of text placed left, right or centred, cut with "…" to
//! the width it has, and filled rectangles and rules. Positions are in points from the
//! top-left corner; this is the only place text is measured.

use std::borrow::Cow;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::KrillaGlyph;

use super::typeface::Typeface;

const ELLIPSIS: char = '…';

/// How text sits in the width it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
    Center,
}

/// A typeface at a size, in a colour.
#[derive(Clone, Copy)]
pub(super) struct Style<'f> {
    pub(super) face: &'f Typeface,
    pub(super) size_pt: f32,
    pub(super) color: rgb::Color,
}

/// A horizontal slot for one line of text: from `left`, `width` points wide.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub(super) left: f32,
    pub(super) width: f32,
    pub(super) align: Align,
}

pub(super) struct Pen<'s, 'p> {
    surface: &'s mut Surface<'p>,
    /// One line's glyphs, reused from line to line.
    glyphs: Vec<KrillaGlyph>,
}

impl<'s, 'p> Pen<'s, 'p> {
    pub(super) fn new(surface: &'s mut Surface<'p>) -> Self {
        Pen {
            surface,
            glyphs: Vec::new(),
        }
    }

    /// Draws `text` on one line at `baseline`, in `slot`, cut to fit its width.
    pub(super) fn text(&mut self, text: &str, style: Style<'_>, slot: Slot, baseline: f32) {
        let text = fit(text, style, slot.width);
        self.draw(&text, style, slot, baseline);
    }

    /// Draws `text` on one line at `baseline`, in `slot`, whole even if it is wider: for
    /// times and amounts, which a cut would falsify.
    pub(super) fn whole_text(&mut self, text: &str, style: Style<'_>, slot: Slot, baseline: f32) {
        let text = one_line(text);
        self.draw(&text, style, slot, baseline);
    }

    #[expect(
        clippy::float_arithmetic,
        reason = "text placement in points: layout only, never money"
    )]
    fn draw(&mut self, text: &str, style: Style<'_>, slot: Slot, baseline: f32) {
        let width = style.face.width_em(text) * style.size_pt;
        let x = match slot.align {
            Align::Left => slot.left,
            Align::Right => slot.left + slot.width - width,
            Align::Center => slot.left + (slot.width - width) / 2.0,
        };
        style.face.glyph_run(text, &mut self.glyphs);
        self.surface.set_fill(Some(solid(style.color)));
        self.surface.draw_glyphs(
            Point::from_xy(x, baseline),
            &self.glyphs,
            style.face.font(),
            text,
            style.size_pt,
            false,
        );
    }

    pub(super) fn fill_rect(
        &mut self,
        left: f32,
        top: f32,
        width: f32,
        height: f32,
        color: rgb::Color,
    ) {
        let Some(rect) = Rect::from_xywh(left, top, width, height) else {
            return;
        };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        let path = path.finish().expect("a rectangle is a valid path");
        self.surface.set_fill(Some(solid(color)));
        self.surface.draw_path(&path);
    }

    /// A horizontal rule from `left` to `right` at `y`.
    pub(super) fn rule(&mut self, left: f32, right: f32, y: f32, width_pt: f32, color: rgb::Color) {
        let mut path = PathBuilder::new();
        path.move_to(left, y);
        path.line_to(right, y);
        let path = path.finish().expect("a line is a valid path");
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: color.into(),
            width: width_pt,
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
    }
}

fn solid(color: rgb::Color) -> Fill {
    Fill {
        paint: color.into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::default(),
    }
}

/// `text` on one line (control characters become spaces), cut with "…" if it is wider than
/// `width` points.
#[expect(
    clippy::float_arithmetic,
    reason = "text measurement in points: layout only, never money"
)]
fn fit<'t>(text: &'t str, style: Style<'_>, width: f32) -> Cow<'t, str> {
    let text = one_line(text);
    let width_em = width / style.size_pt;
    if style.face.width_em(&text) <= width_em {
        return text;
    }
    let budget_em = width_em - style.face.char_width_em(ELLIPSIS);
    let mut used_em = 0.0;
    let mut end = 0;
    for (start, ch) in text.char_indices() {
        used_em += style.face.char_width_em(ch);
        if used_em > budget_em {
            break;
        }
        end = start + ch.len_utf8();
    }
    Cow::Owned(format!("{}{ELLIPSIS}", text[..end].trim_end()))
}

/// `text` with its control characters (line breaks, tabs) made spaces.
fn one_line(text: &str) -> Cow<'_, str> {
    if text.contains(char::is_control) {
        Cow::Owned(text.replace(char::is_control, " "))
    } else {
        Cow::Borrowed(text)
    }
}
