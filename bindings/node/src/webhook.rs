//! Verifying and parsing one webhook call (`verifyAndParse`), for apps with their own HTTP server.

use std::collections::HashMap;

use flowai_core::Secret;
use flowai_core::webhook::verify::Verifier;
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;

use crate::js_error;

/// Where the verify key is looked for besides the default header.
#[napi(object)]
#[derive(Debug, Default)]
pub struct VerifyOptions {
    /// Header carrying the key (default `X-Flowai-Verify-Key`).
    pub header_name: Option<String>,
    /// The raw query string of the request (may carry `verifyKey=`).
    pub query: Option<String>,
}

/// Check the verify key of a webhook call in constant time, then parse its body into
/// `{ type, payload }`. Wrong key: FLOWAI_VERIFICATION; bad JSON: FLOWAI_PROTOCOL.
#[napi(ts_return_type = "any")]
pub fn verify_and_parse(
    headers: HashMap<String, String>,
    body: Either<String, Buffer>,
    verify_key: String,
    options: Option<VerifyOptions>,
) -> napi::Result<Value> {
    let options = options.unwrap_or_default();
    let mut verifier = Verifier::new(Secret::new(verify_key)).map_err(js_error)?;
    if let Some(name) = &options.header_name {
        verifier = verifier.with_header_name(name).map_err(js_error)?;
    }
    let body: &[u8] = match &body {
        Either::A(text) => text.as_bytes(),
        Either::B(buffer) => buffer.as_ref(),
    };
    let pairs = headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let event = verifier
        .verify_and_parse_pairs(pairs, options.query.as_deref(), body)
        .map_err(js_error)?;
    Ok(event.to_value())
}
