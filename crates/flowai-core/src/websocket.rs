//! Opening a websocket over TCP or TLS, with a connection's memory kept small: the byte
//! stream is boxed, and the read buffer is the configured size, not the handshake's.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::tungstenite::error::UrlError;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// A byte stream a websocket runs over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// An open websocket. Its stream is a boxed `TcpStream` (a few bytes) or a boxed rustls
/// stream; tokio-tungstenite's own `MaybeTlsStream` would put the 1 KiB rustls variant
/// inline in every connection, TLS or not.
pub(crate) type Ws = WebSocketStream<Box<dyn Io>>;

/// Connect to a `ws://` or `wss://` URL and complete the websocket handshake, with Nagle's
/// algorithm off (frames are small and latency matters). Callers bound the time it takes.
pub(crate) async fn connect(
    url: &str,
    config: WebSocketConfig,
    tls: &Arc<ClientConfig>,
) -> Result<Ws, Error> {
    let parsed = url::Url::parse(url).map_err(|_| Error::Url(UrlError::NoHostName))?;
    let secure = match parsed.scheme() {
        "ws" => false,
        "wss" => true,
        _ => return Err(Error::Url(UrlError::UnsupportedUrlScheme)),
    };
    let host = parsed.host().ok_or(Error::Url(UrlError::NoHostName))?;
    let port = parsed
        .port_or_known_default()
        .ok_or(Error::Url(UrlError::UnsupportedUrlScheme))?;
    let (tcp, name) = match host {
        url::Host::Domain(domain) => (
            TcpStream::connect((domain, port)).await?,
            ServerName::try_from(domain.to_string()).map_err(|_| Error::Url(UrlError::NoHostName)),
        ),
        url::Host::Ipv4(ip) => (
            TcpStream::connect((ip, port)).await?,
            Ok(ServerName::IpAddress(IpAddr::V4(ip).into())),
        ),
        url::Host::Ipv6(ip) => (
            TcpStream::connect((ip, port)).await?,
            Ok(ServerName::IpAddress(IpAddr::V6(ip).into())),
        ),
    };
    tcp.set_nodelay(true)?;
    let stream: Box<dyn Io> = if secure {
        let tls = tokio_rustls::TlsConnector::from(tls.clone());
        Box::new(tls.connect(name?, tcp).await?)
    } else {
        Box::new(tcp)
    };
    // tungstenite keeps its 4 KiB handshake buffer as the connection's read buffer; taking
    // the stream back and starting the websocket afresh (with whatever followed the HTTP
    // response) gives it `config.read_buffer_size` instead: 3 KiB less per idle session.
    let recording = Recording {
        io: stream,
        read: Vec::new(),
    };
    let (handshaken, _response) =
        tokio_tungstenite::client_async_with_config(url, recording, Some(config)).await?;
    let Recording { io, read } = handshaken.into_inner();
    let tail = match read.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => read[end + 4..].to_vec(),
        None => Vec::new(),
    };
    Ok(WebSocketStream::from_partially_read(io, tail, Role::Client, Some(config)).await)
}

/// The stream during the handshake, keeping a copy of what was read.
struct Recording {
    io: Box<dyn Io>,
    read: Vec<u8>,
}

impl AsyncRead for Recording {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.read.extend_from_slice(&buf.filled()[before..]);
        }
        polled
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

    /// A server that answers the upgrade and sends a text frame in the same write, so the
    /// frame arrives with the HTTP response.
    async fn eager_server() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                tcp.read_exact(&mut byte).await.unwrap();
                request.push(byte[0]);
            }
            let text = String::from_utf8(request).unwrap();
            let key = text
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .or_else(|| {
                    text.lines()
                        .find_map(|l| l.strip_prefix("sec-websocket-key: "))
                })
                .unwrap();
            let mut out = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.trim().as_bytes())
            )
            .into_bytes();
            // An unmasked text frame "early", as a server sends it.
            out.extend_from_slice(&[0x81, 5]);
            out.extend_from_slice(b"early");
            tcp.write_all(&out).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        });
        addr
    }

    #[tokio::test]
    async fn frames_that_came_with_the_handshake_are_kept() {
        let addr = eager_server().await;
        let tls = crate::tls::websocket_config(None).unwrap();
        let config = WebSocketConfig::default().read_buffer_size(1024);
        let mut ws = connect(&format!("ws://{addr}/"), config, &tls)
            .await
            .unwrap();
        match ws.next().await {
            Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), "early"),
            other => panic!("expected the early frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unusable_urls_are_refused() {
        let tls = crate::tls::websocket_config(None).unwrap();
        for url in ["http://127.0.0.1:1/", "not a url", "ws://"] {
            let err = connect(url, WebSocketConfig::default(), &tls).await;
            assert!(matches!(err, Err(Error::Url(_))), "{url}: {:?}", err.err());
        }
    }
}
