//! Connections of the proxy that a `Drop` fault severs.

use std::time::Duration;

/// A connection of the proxy that a `Drop` fault can sever: its next read ends and its next write
/// fails, so the server closes it without having written an answer (the client sees the
/// connection close, as when a load balancer or the service drops it).
#[derive(Debug, Clone, Default)]
pub struct Severable(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Severable {
    pub(super) fn sever(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub(super) fn severed(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A TCP stream with its [`Severable`] switch.
pub(super) struct SeverableStream {
    inner: tokio::net::TcpStream,
    switch: Severable,
}

impl tokio::io::AsyncRead for SeverableStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.switch.severed() {
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for SeverableStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.switch.severed() {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::ConnectionAborted.into()));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.switch.severed() {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::ConnectionAborted.into()));
        }
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The proxy's listener: each connection comes with its [`Severable`] switch, which the handler
/// gets as its connect info.
pub(super) struct SeveringListener(pub(super) tokio::net::TcpListener);

impl axum::serve::Listener for SeveringListener {
    type Io = SeverableStream;
    type Addr = Severable;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let switch = Severable::default();
                    return (SeverableStream { inner, switch: switch.clone() }, switch);
                }
                // Out of file descriptors and the like: wait, as axum's own listener does.
                Err(e) => {
                    tracing::debug!(error = %e, "emulator proxy: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr().map(|_| Severable::default())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, SeveringListener>> for Severable {
    fn connect_info(stream: axum::serve::IncomingStream<'_, SeveringListener>) -> Self {
        stream.remote_addr().clone()
    }
}
