//! A lazy listing: a [`Stream`] of items that fetches one page when the previous one is used up.
//!
//! A [`Pages`] holds at most one page's items: a used-up page is released before the next
//! one is requested. Nothing is fetched before the first item is asked for, and page n+1
//! only once every item of page n was taken. Its [`PageGauge`] counts the page buffers alive, so
//! a caller (or a test) can see that a long listing never piles pages up.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::future::BoxFuture;

use super::types::Page;
use crate::error::Result;

/// The number of a listing's first page.
pub const FIRST_PAGE: u32 = 1;

/// The page to fetch after page `asked` answered `page`, or None when the listing is over.
/// An empty page ends it even if the service claimed more, so a listing never runs forever.
pub fn page_after<T>(asked: u32, page: &Page<T>) -> Option<u32> {
    if page.has_more && !page.items.is_empty() {
        asked.checked_add(1)
    } else {
        None
    }
}

/// Fetches page `n` (1-based).
pub type PageFetcher<T> = Arc<dyn Fn(u32) -> BoxFuture<'static, Result<Page<T>>> + Send + Sync>;

/// Counts the page buffers of a [`Pages`] alive now and at most.
#[derive(Debug, Default)]
pub struct PageGauge {
    live: AtomicUsize,
    max: AtomicUsize,
    fetched: AtomicUsize,
}

impl PageGauge {
    /// Page buffers alive now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// The most page buffers that were alive at once.
    pub fn max_live(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    /// Pages fetched so far.
    pub fn fetched(&self) -> usize {
        self.fetched.load(Ordering::SeqCst)
    }
}

/// The items of one page not yet taken; counted by the gauge while it lives.
struct Buffer<T> {
    items: VecDeque<T>,
    gauge: Arc<PageGauge>,
}

impl<T> Buffer<T> {
    fn new(items: Vec<T>, gauge: Arc<PageGauge>) -> Self {
        let live = gauge.live.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.max.fetch_max(live, Ordering::SeqCst);
        gauge.fetched.fetch_add(1, Ordering::SeqCst);
        Buffer {
            items: items.into(),
            gauge,
        }
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        self.gauge.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every item of a paged listing, fetched lazily page by page. An error ends the stream
/// after it is yielded.
pub struct Pages<T> {
    fetch: PageFetcher<T>,
    /// None once the listing is over or failed.
    next_page: Option<u32>,
    buffer: Option<Buffer<T>>,
    pending: Option<BoxFuture<'static, Result<Page<T>>>>,
    gauge: Arc<PageGauge>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("next_page", &self.next_page)
            .finish_non_exhaustive()
    }
}

impl<T> Pages<T> {
    /// A listing starting at page 1.
    pub fn new(fetch: PageFetcher<T>) -> Self {
        Pages {
            fetch,
            next_page: Some(FIRST_PAGE),
            buffer: None,
            pending: None,
            gauge: Arc::new(PageGauge::default()),
        }
    }

    /// The gauge of this listing's page buffers.
    pub fn gauge(&self) -> Arc<PageGauge> {
        self.gauge.clone()
    }

    /// The next item, `None` after the last one (or after an error was returned).
    pub async fn next_item(&mut self) -> Option<Result<T>>
    where
        T: Send + 'static,
    {
        futures_util::StreamExt::next(self).await
    }
}

// Items are moved out of the buffer, never pinned, so a `Pages` may move whatever `T` is.
impl<T> Unpin for Pages<T> {}

impl<T> Stream for Pages<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = self.get_mut();
        loop {
            if let Some(buffer) = &mut this.buffer {
                if let Some(item) = buffer.items.pop_front() {
                    return Poll::Ready(Some(Ok(item)));
                }
                // Used up: release it before the next page is asked for.
                this.buffer = None;
            }
            let Some(number) = this.next_page else {
                return Poll::Ready(None);
            };
            let pending = this.pending.get_or_insert_with(|| (this.fetch)(number));
            let page = match pending.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(page) => page,
            };
            this.pending = None;
            match page {
                Err(e) => {
                    this.next_page = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(page) => {
                    this.next_page = page_after(number, &page);
                    this.buffer = Some(Buffer::new(page.items, this.gauge.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::Mutex;

    #[tokio::test]
    async fn fetches_page_after_page_and_stops() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let fetch: PageFetcher<u32> = Arc::new(move |n| {
            log.lock().unwrap().push(n);
            Box::pin(async move {
                let items = if n <= 3 {
                    vec![n * 10, n * 10 + 1]
                } else {
                    vec![]
                };
                Ok(Page {
                    page: n,
                    items,
                    has_more: n < 3,
                })
            })
        });
        let mut pages = Pages::new(fetch);
        assert!(asked.lock().unwrap().is_empty(), "fetched before asked");
        assert_eq!(pages.next().await.unwrap().unwrap(), 10);
        assert_eq!(*asked.lock().unwrap(), vec![1]);
        let rest: Vec<u32> = pages.by_ref().map(|r| r.unwrap()).collect().await;
        assert_eq!(rest, vec![11, 20, 21, 30, 31]);
        assert_eq!(*asked.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!(pages.gauge().max_live(), 1);
        assert_eq!(pages.gauge().live(), 0);
    }
}
