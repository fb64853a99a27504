//! A batch upload's body as a reader: streamed as it arrives, never held whole, and cut
//! off with a `FileTooLarge` error past the largest payroll file a node takes.

use std::io;

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt, TryStreamExt};
use payrail_engine::app::uploads::UPLOAD_LIMIT_BYTES;
use tokio::io::AsyncRead;
use tokio_util::io::StreamReader;

/// The body as a reader, capped at `UPLOAD_LIMIT_BYTES`.
pub fn reader(body: Body) -> impl AsyncRead + Send + Unpin + 'static {
    StreamReader::new(capped(body))
}

fn capped(body: Body) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin {
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
            Ok(chunk)
        })
}
