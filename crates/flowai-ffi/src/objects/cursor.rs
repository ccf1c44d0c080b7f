//! `page_cursor`: a listing read one page at a time, the one page walk every binding's iterators use.
//!
//! A paged method (`api::Method::paged`) opens a cursor over a page fetcher; `next` fetches
//! the following page when asked and gives `{items, has_more, page}`, then null once the
//! listing is over. Python's and Node's generated iterators and C callers all walk pages
//! through here, so none of them counts pages or decides when a listing ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use flowai_core::event::Case;
use flowai_core::v1::{FIRST_PAGE, Page, page_after};
use flowai_core::{Error, Result};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{closed_now, small_queue};
use crate::api::PAGE_CURSOR;
use crate::args::Args;
use crate::handle::{Ctx, Handle, Object, Opened, Pending, Reply};

/// The page numbered `n` of a listing, its items as JSON.
pub(super) type FetchPage =
    Box<dyn Fn(u32) -> Pin<Box<dyn Future<Output = Result<Page<Value>>> + Send>> + Send + Sync>;

struct Cursor {
    fetch: FetchPage,
    /// The page `next` fetches; None once the listing is over. A lock rather than an
    /// atomic: two concurrent `next` calls must not fetch the same page twice.
    next: Mutex<Option<u32>>,
}

/// A new cursor (a handle of kind `page_cursor`) before its first page.
pub(super) fn open(fetch: FetchPage, case: Case) -> Reply {
    let opened = Opened {
        object: Arc::new(Cursor {
            fetch,
            next: Mutex::new(Some(FIRST_PAGE)),
        }),
        events: small_queue(case),
    };
    Reply::Handle(Handle::from_opened(PAGE_CURSOR, opened, case))
}

impl Cursor {
    async fn next(&self, ctx: &Ctx) -> Result<Reply> {
        let mut next = self.next.lock().await;
        let Some(number) = *next else {
            return Ok(Reply::Value(Value::Null));
        };
        // A failed fetch leaves the cursor on the same page, so `next` may try it again.
        let page = (self.fetch)(number).await?;
        *next = page_after(number, &page);
        page_reply(
            ctx,
            Page {
                has_more: next.is_some(),
                ..page
            },
        )
    }
}

/// Items as JSON.
pub(super) fn items<T: Serialize>(items: &[T]) -> Result<Vec<Value>> {
    items
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::internal(format!("cannot serialize a listing: {e}")))
}

/// A page as the SDK gives it: `{page, items, has_more}` (the items are the API's JSON),
/// the same from a cursor and from a `*_page` method.
pub(super) fn page_reply<T: Serialize>(ctx: &Ctx, page: Page<T>) -> Result<Reply> {
    Ok(Reply::Value(ctx.sdk_object(json!({
        "page": page.page,
        "items": items(&page.items)?,
        "has_more": page.has_more,
    }))))
}

impl Object for Cursor {
    fn call<'a>(&'a self, ctx: &'a Ctx, _method: &'static str, _args: Args) -> Pending<'a, Reply> {
        // `next` is the kind's only method.
        Box::pin(self.next(ctx))
    }

    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()> {
        closed_now(ctx)
    }
}
