//! Keyset pagination: `?limit=&cursor=`, where the cursor is an opaque token naming the
//! last object of the previous page (its id, or its line number in a batch). Ids are
//! UUIDv7 and so in creation order; a page never skips or repeats an object while others
//! are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use payrail_engine::app::reports::statement::MovementKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::ApiError;

/// The page size when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// What a list endpoint reads from its query string, besides its own filters.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many objects to return (1 to 500; 50 by default).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(pattern = "^[A-Za-z0-9_-]{1,200}$")]
    pub cursor: Option<String>,
}

/// A page's bounds, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageBounds {
    pub limit: i64,
    /// Only objects after this key (an id or a line number).
    pub after: Option<Key>,
}

/// The key a list is ordered by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Id(Uuid),
    Number(i64),
    /// A validation report's line and field.
    LineField(i32, String),
    /// A transaction report's row: its id, and 1 for a fee row.
    Transaction(Uuid, i32),
    /// A statement's movement, and the balance after it.
    Movement(MovementKey, i64),
}

impl PageBounds {
    /// The transaction report row to continue after (an id cursor of the first version
    /// counts as a movement row).
    pub fn after_transaction(&self) -> Result<Option<(Uuid, i32)>, ApiError> {
        match &self.after {
            None => Ok(None),
            Some(Key::Id(id)) => Ok(Some((*id, 0))),
            Some(Key::Transaction(id, rank)) => Ok(Some((*id, *rank))),
            Some(_) => Err(foreign_cursor()),
        }
    }

    /// The id to continue after, refusing a cursor made for a list ordered otherwise.
    pub fn after_id(&self) -> Result<Option<Uuid>, ApiError> {
        match &self.after {
            None => Ok(None),
            Some(Key::Id(id)) => Ok(Some(*id)),
            Some(_) => Err(foreign_cursor()),
        }
    }

    /// The number to continue after, refusing a cursor made for a list ordered otherwise.
    pub fn after_number(&self) -> Result<Option<i64>, ApiError> {
        match &self.after {
            None => Ok(None),
            Some(Key::Number(number)) => Ok(Some(*number)),
            Some(_) => Err(foreign_cursor()),
        }
    }

    /// The line and field to continue after, refusing a cursor made for another list.
    pub fn after_line_field(&self) -> Result<Option<(i32, &str)>, ApiError> {
        match &self.after {
            None => Ok(None),
            Some(Key::LineField(line, field)) => Ok(Some((*line, field))),
            Some(_) => Err(foreign_cursor()),
        }
    }
}

impl PageQuery {
    pub fn bounds(&self) -> Result<PageBounds, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = self.cursor.as_deref().map(decode).transpose()?;
        Ok(PageBounds { limit, after })
    }
}

/// One page of a list, and the cursor of the next one (`None` on the last page).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the extra row only
    /// says that another page follows.
    pub fn from_rows(mut rows: Vec<T>, bounds: &PageBounds, key_of: impl Fn(&T) -> Key) -> Page<T> {
        let limit = usize::try_from(bounds.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| encode(key_of(last)))
        } else {
            None
        };
        Page {
            data: rows,
            next_cursor,
        }
    }
}

/// A cursor is a kind byte then the key's bytes, in URL-safe base64.
pub fn encode(key: Key) -> String {
    let mut bytes = Vec::with_capacity(24);
    match key {
        Key::Id(id) => {
            bytes.push(b'i');
            bytes.extend_from_slice(id.as_bytes());
        }
        Key::Number(number) => {
            bytes.push(b'n');
            bytes.extend_from_slice(&number.to_be_bytes());
        }
        Key::LineField(line, field) => {
            bytes.push(b'l');
            bytes.extend_from_slice(&line.to_be_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
        Key::Transaction(id, rank) => {
            bytes.push(b't');
            bytes.extend_from_slice(id.as_bytes());
            bytes.extend_from_slice(&rank.to_be_bytes());
        }
        Key::Movement(key, balance) => {
            bytes.push(b'm');
            bytes.extend_from_slice(&key.at.as_microsecond().to_be_bytes());
            bytes.extend_from_slice(&key.entry.to_be_bytes());
            bytes.extend_from_slice(key.item.as_bytes());
            bytes.extend_from_slice(&balance.to_be_bytes());
        }
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(cursor: &str) -> Result<Key, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| foreign_cursor())?;
    let key = match bytes.split_first() {
        Some((b'i', id)) => Uuid::from_slice(id).ok().map(Key::Id),
        Some((b'n', number)) => <[u8; 8]>::try_from(number)
            .ok()
            .map(|number| Key::Number(i64::from_be_bytes(number))),
        Some((b'l', rest)) if rest.len() >= 4 => {
            let (line, field) = rest.split_at(4);
            let line = i32::from_be_bytes(line.try_into().map_err(|_| foreign_cursor())?);
            String::from_utf8(field.to_vec())
                .ok()
                .map(|field| Key::LineField(line, field))
        }
        Some((b't', rest)) if rest.len() == 20 => {
            let (id, rank) = rest.split_at(16);
            let rank = <[u8; 4]>::try_from(rank).map_err(|_| foreign_cursor())?;
            Uuid::from_slice(id)
                .ok()
                .map(|id| Key::Transaction(id, i32::from_be_bytes(rank)))
        }
        Some((b'm', rest)) if rest.len() == 40 => movement(rest),
        _ => None,
    };
    key.ok_or_else(foreign_cursor)
}

/// A statement cursor's time, entry, movement and balance.
fn movement(bytes: &[u8]) -> Option<Key> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        Some(i64::from_be_bytes(bytes.get(range)?.try_into().ok()?))
    };
    let at = jiff::Timestamp::from_microsecond(number(0..8)?).ok()?;
    let entry = number(8..16)?;
    let item = Uuid::from_slice(bytes.get(16..32)?).ok()?;
    let balance = number(32..40)?;
    Some(Key::Movement(MovementKey { at, entry, item }, balance))
}

/// The refusal of a cursor that another list gave out, or none did.
pub fn foreign_cursor() -> ApiError {
    ApiError::invalid_field(
        "cursor",
        "not a cursor this list gave out; start again without it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_points_at_its_last_row_and_the_last_page_at_nothing() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let bounds = PageBounds {
            limit: 2,
            after: None,
        };
        let page = Page::from_rows(ids.clone(), &bounds, |id| Key::Id(*id));
        assert_eq!(page.data, ids[..2]);
        let cursor = page.next_cursor.expect("another page follows");
        assert_eq!(decode(&cursor).expect("our own cursor"), Key::Id(ids[1]));
        let last = Page::from_rows(ids[2..].to_vec(), &bounds, |id| Key::Id(*id));
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn line_numbers_make_cursors_too_and_do_not_pass_for_ids() {
        let bounds = PageQuery {
            limit: None,
            cursor: Some(encode(Key::Number(42))),
        }
        .bounds()
        .expect("our own cursor");
        assert_eq!(bounds.after_number().expect("a number"), Some(42));
        assert!(bounds.after_id().is_err());
    }

    #[test]
    fn a_report_cursor_keeps_its_line_and_field() {
        let bounds = PageQuery {
            limit: None,
            cursor: Some(encode(Key::LineField(7, "amount".into()))),
        }
        .bounds()
        .expect("our own cursor");
        assert_eq!(
            bounds.after_line_field().expect("a line and field"),
            Some((7, "amount"))
        );
        assert!(bounds.after_number().is_err());
    }

    #[test]
    fn a_forged_cursor_or_limit_is_refused() {
        let query = |limit, cursor: &str| PageQuery {
            limit: Some(limit),
            cursor: Some(cursor.into()),
        };
        let ours = encode(Key::Id(Uuid::now_v7()));
        assert!(query(10, "not-ours").bounds().is_err());
        assert!(query(10, "AAAA").bounds().is_err());
        assert!(query(0, &ours).bounds().is_err());
        assert!(query(501, &ours).bounds().is_err());
        assert!(query(500, &ours).bounds().is_ok());
    }
}
