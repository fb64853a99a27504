//! A batch upload's body as a stream of bytes: capped in size and hashed as it passes, so
//! the same file is recognised (SHA-256) without holding it in memory.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// The largest upload: a million payroll lines fit in well under this.
pub const UPLOAD_LIMIT_BYTES: usize = 512 * 1024 * 1024;

/// The body's SHA-256, once it has been read to its end.
#[derive(Clone, Debug, Default)]
pub struct BodyHash(Arc<Mutex<Sha256>>);

impl BodyHash {
    pub fn finish(&self) -> [u8; 32] {
        match self.0.lock() {
            Ok(hash) => hash.clone().finalize().into(),
            Err(poisoned) => poisoned.into_inner().clone().finalize().into(),
        }
    }

    fn update(&self, bytes: &[u8]) {
        match self.0.lock() {
            Ok(mut hash) => hash.update(bytes),
            Err(poisoned) => poisoned.into_inner().update(bytes),
        }
    }
}

/// The body's chunks, hashed into `hash`; past the limit the stream ends with an error of
/// kind `FileTooLarge`.
pub fn chunks(body: Body, hash: BodyHash) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin {
    let mut seen = 0_usize;
    body.into_data_stream()
        .map_err(io::Error::other)
        .map(move |chunk| {
            let chunk = chunk?;
            seen += chunk.len();
            if seen > UPLOAD_LIMIT_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "upload too large",
                ));
            }
            hash.update(&chunk);
            Ok(chunk)
        })
}

/// Reads a body to its end only to hash it (a replayed upload is compared, not parsed).
pub async fn hash_only(body: Body) -> Result<[u8; 32], ApiError> {
    let hash = BodyHash::default();
    let mut stream = chunks(body, hash.clone());
    while let Some(chunk) = stream.next().await {
        chunk.map_err(read_error)?;
    }
    Ok(hash.finish())
}

/// The problem for a body that could not be read.
pub fn read_error(error: io::Error) -> ApiError {
    if error.kind() == io::ErrorKind::FileTooLarge {
        ApiError::TooLarge(format!(
            "an upload may be at most {} MiB",
            UPLOAD_LIMIT_BYTES / (1024 * 1024)
        ))
    } else {
        ApiError::bad_request(
            "unreadable-body",
            format!("the upload could not be read: {error}"),
        )
    }
}
