//! Multipart forms with one file: a package, streamed to a staged file without ever being held in
//! memory, or an image, read into memory up to the image limit.
//!
//! The CSRF token is a form field like any other, so the form must put `csrf_token` before the
//! file input (browsers send fields in document order): the token is checked when the file field
//! arrives, before a byte of the file is read, and a missing or wrong one is a 403 page.

use super::{PageError, WebContext};
use crate::AppState;
use crate::blob::{StageError, Staged};
use crate::error::{AppError, AppResult};
use crate::services::catalog::MAX_IMAGE_BYTES;
use crate::web::views::human_size;
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use bytes::{Bytes, BytesMut};
use souk_core::ValidationError;

/// The largest text field read; the forms' text fields are short (a token, a caption).
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;

/// Where the file goes.
pub enum Sink {
    /// Staged to a temporary file through the blob store, at most `limit` bytes.
    Package { limit: u64 },
    /// Read into memory, at most [`MAX_IMAGE_BYTES`].
    Image,
}

pub enum FileData {
    Staged(Staged),
    Bytes(Bytes),
}

/// A read multipart form: its text fields, and its file or why the file was refused.
pub struct Upload {
    fields: Vec<(String, String)>,
    /// A refusal is meant for the person (too large, none chosen), to be shown on the form.
    pub file: AppResult<FileData>,
}

impl Upload {
    /// A text field's value; empty when absent.
    pub fn field(&self, name: &str) -> &str {
        field(&self.fields, name)
    }

    /// The staged package (for a [`Sink::Package`] form).
    pub fn staged(self) -> AppResult<Staged> {
        match self.file? {
            FileData::Staged(s) => Ok(s),
            FileData::Bytes(_) => Err(AppError::internal(anyhow::anyhow!(
                "a package form was read into memory"
            ))),
        }
    }

    /// The image's bytes (for a [`Sink::Image`] form).
    pub fn image(self) -> AppResult<Bytes> {
        match self.file? {
            FileData::Bytes(b) => Ok(b),
            FileData::Staged(_) => Err(AppError::internal(anyhow::anyhow!(
                "an image form was staged to a file"
            ))),
        }
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn multipart_error(e: &MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::bad_request("bad_form", e.body_text())
    }
}

fn refused(field: &'static str, code: &'static str, message: String) -> AppError {
    AppError::Validation(ValidationError::new(field, code, message))
}

/// Reads the form: text fields, and the field named `file_field` into `sink`.
///
/// Errors: a CSRF failure or an unreadable form before the token was checked are pages (403,
/// 400). Everything after is in [`Upload::file`], for the form page to show.
pub async fn read_upload(
    state: &AppState,
    ctx: &WebContext,
    mut form: Multipart,
    file_field: &'static str,
    sink: Sink,
) -> Result<Upload, PageError> {
    let mut fields = Vec::new();
    let mut file: Option<AppResult<FileData>> = None;
    let mut csrf_checked = false;
    loop {
        let mut part = match form.next_field().await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(e) if !csrf_checked => return Err(PageError(multipart_error(&e))),
            Err(e) => {
                // Keep the first reason: a refused file is more telling than the rest of the
                // body failing to parse afterwards.
                file.get_or_insert(Err(multipart_error(&e)));
                break;
            }
        };
        if part.name() != Some(file_field) {
            let name = part.name().unwrap_or_default().to_owned();
            match read_text(&mut part).await {
                Ok(value) => fields.push((name, value)),
                Err(e) if !csrf_checked => return Err(PageError(e)),
                Err(e) => {
                    file.get_or_insert(Err(e));
                    break;
                }
            }
            continue;
        }
        if !csrf_checked {
            super::csrf::check(ctx, field(&fields, "csrf_token"))?;
            csrf_checked = true;
        }
        if file.is_some() {
            // A second file in the same field: not something our forms send.
            drain(&mut part).await;
            continue;
        }
        let got = match sink {
            Sink::Package { limit } => read_package(state, &mut part, file_field, limit).await,
            Sink::Image => read_image(&mut part, file_field).await,
        };
        // A refused file (too large, none chosen) was read to its end, so the form goes on; any
        // other failure means the body itself broke off.
        let interrupted = matches!(&got, Err(e) if !matches!(e, AppError::Validation(_)));
        file = Some(got);
        if interrupted {
            break;
        }
    }
    if !csrf_checked {
        super::csrf::check(ctx, field(&fields, "csrf_token"))?;
    }
    let file = file.unwrap_or_else(|| Err(no_file(file_field)));
    Ok(Upload { fields, file })
}

fn no_file(file_field: &'static str) -> AppError {
    refused(
        file_field,
        "missing_file",
        "is missing: choose a file to upload".into(),
    )
}

async fn read_text(part: &mut Field<'_>) -> AppResult<String> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = part.chunk().await.map_err(|e| multipart_error(&e))? {
        if buf.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec())
        .map_err(|_| AppError::bad_request("bad_form", "a form field is not UTF-8 text"))
}

/// Reads the rest of a part and throws it away. Answering before the client has sent its whole
/// body can make the client see a reset connection instead of the answer; the route's body
/// limit bounds how much this reads.
async fn drain(part: &mut Field<'_>) {
    while let Ok(Some(_)) = part.chunk().await {}
}

async fn read_package(
    state: &AppState,
    part: &mut Field<'_>,
    file_field: &'static str,
    limit: u64,
) -> AppResult<FileData> {
    // Set when the body broke off at the route's limit rather than for another reason: staging
    // only keeps the error's text.
    let mut over_body_limit = false;
    let staged = {
        let chunks = futures_util::stream::unfold(
            (&mut *part, &mut over_body_limit),
            |(part, over)| async move {
                match part.chunk().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), (part, over))),
                    Ok(None) => None,
                    Err(e) => {
                        *over = e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE;
                        Some((Err(e), (part, over)))
                    }
                }
            },
        );
        state
            .catalog
            .blobs()
            .stage(std::pin::pin!(chunks), limit)
            .await
    };
    match staged {
        Ok(s) if s.size == 0 => Err(no_file(file_field)),
        Ok(s) => Ok(FileData::Staged(s)),
        Err(StageError::TooLarge { limit }) => {
            drain(part).await;
            Err(refused(
                file_field,
                "too_large",
                format!(
                    "is larger than {}, the largest upload this marketplace takes",
                    human_size(limit)
                ),
            ))
        }
        // The whole form passed the route's limit (text fields around the file): one message
        // for the lot.
        Err(StageError::Body(_)) if over_body_limit => Err(AppError::PayloadTooLarge),
        Err(e) => Err(AppError::from(e)),
    }
}

async fn read_image(part: &mut Field<'_>, file_field: &'static str) -> AppResult<FileData> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = part.chunk().await.map_err(|e| multipart_error(&e))? {
        if buf.len() + chunk.len() > MAX_IMAGE_BYTES {
            drain(part).await;
            return Err(refused(
                file_field,
                "too_large",
                format!("must be at most {}", human_size(MAX_IMAGE_BYTES as u64)),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(no_file(file_field));
    }
    Ok(FileData::Bytes(buf.freeze()))
}
