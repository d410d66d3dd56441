//! Upload sources: bytes of known length that can be streamed (and, mostly, replayed).

use std::error::Error as StdError;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};

type BoxError = Box<dyn StdError + Send + Sync>;
pub(crate) type ByteStream = BoxStream<'static, std::result::Result<Bytes, BoxError>>;
type Factory = Arc<dyn Fn() -> ByteStream + Send + Sync>;
/// A one-shot stream, until an attempt's body takes it. Why a std Mutex: it is only taken
/// to move the stream out or look at it, never across an await.
type OnceSlot = Arc<Mutex<Option<ByteStream>>>;

/// Read size when streaming a file.
const CHUNK: usize = 1024 * 1024;

/// Streams `len` bytes of `file` from its current position in chunks of [`CHUNK`] read on
/// the blocking pool, one read ahead: the next chunk is read while the HTTP stack sends
/// the previous one, so the disk and the socket work at the same time. A file that ends
/// before `len` bytes is an error, not a short body. Memory: two chunks at most.
fn read_ahead(file: std::fs::File, len: u64) -> ByteStream {
    type Read = tokio::task::JoinHandle<(std::fs::File, std::io::Result<Bytes>)>;

    fn read_next(mut file: std::fs::File, left: u64) -> Read {
        tokio::task::spawn_blocking(move || {
            let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let mut buf = Vec::with_capacity(want);
            let read = std::io::Read::take(&mut file, want as u64).read_to_end(&mut buf);
            let chunk = match read {
                Ok(0) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the file ended {left} bytes before its announced length"),
                )),
                Ok(_) => Ok(Bytes::from(buf)),
                Err(e) => Err(e),
            };
            (file, chunk)
        })
    }

    let first = (len > 0).then(|| read_next(file, len));
    futures::stream::unfold((first, len), |(pending, left)| async move {
        let (file, chunk) = match pending?.await {
            Ok(done) => done,
            Err(e) => return Some((Err(BoxError::from(e)), (None, 0))),
        };
        match chunk {
            Ok(chunk) => {
                let left = left.saturating_sub(chunk.len() as u64);
                let next = (left > 0).then(|| read_next(file, left));
                Some((Ok(chunk), (next, left)))
            }
            Err(e) => Some((Err(BoxError::from(e)), (None, 0))),
        }
    })
    .boxed()
}

/// What to upload: a byte source of known length and the file name to give it.
///
/// Sources from a path, a [`tokio::fs::File`], [`Bytes`] or a stream factory can be sent
/// again when a retry is needed. A one-shot [`stream`](UploadSource::stream) is sent again
/// only while none of it has been read (the connection failed, say); once the HTTP stack
/// has taken its first chunk it cannot be, and a failed attempt is final (after a lost
/// reply the client still looks for the image).
///
/// ```
/// use photoshelter_client::UploadSource;
///
/// let source = UploadSource::bytes("IMG_0001.jpg", vec![0xFF, 0xD8, 0xFF, 0xD9])?;
/// assert_eq!(source.len(), 4);
/// assert_eq!(source.file_name(), "IMG_0001.jpg");
/// assert!(UploadSource::bytes("bad\nname.jpg", vec![1]).is_err());
/// # Ok::<(), photoshelter_client::Error>(())
/// ```
pub struct UploadSource {
    kind: Kind,
    len: u64,
    file_name: String,
}

enum Kind {
    Path(PathBuf),
    File(tokio::fs::File),
    Bytes(Bytes),
    Factory(Factory),
    Once(OnceSlot),
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Path(p) => format!("path {}", p.display()),
            Kind::File(_) => "file".to_owned(),
            Kind::Bytes(_) => "bytes".to_owned(),
            Kind::Factory(_) => "stream factory".to_owned(),
            Kind::Once(_) => "stream".to_owned(),
        };
        f.debug_struct("UploadSource")
            .field("kind", &kind)
            .field("len", &self.len)
            .field("file_name", &self.file_name)
            .finish()
    }
}

fn check_name(name: String) -> Result<String> {
    if name.trim().is_empty() {
        return Err(Error::invalid("file_name", "is empty"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\' || c == '"')
    {
        return Err(Error::invalid(
            "file_name",
            format!(
                "`{}` contains a control character, a slash or a quote",
                name.escape_debug()
            ),
        ));
    }
    Ok(name)
}

impl UploadSource {
    /// A local file; its name becomes the uploaded file name. Reopened for each attempt.
    #[tracing::instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub async fn path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        if !meta.is_file() {
            return Err(Error::invalid(
                "source",
                format!("{} is not a regular file", path.display()),
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            len: meta.len(),
            file_name: check_name(name)?,
            kind: Kind::Path(path),
        })
    }

    /// An open file, uploaded from its start under `file_name`.
    #[tracing::instrument(skip_all)]
    pub async fn file(file: tokio::fs::File, file_name: impl Into<String>) -> Result<Self> {
        let name = check_name(file_name.into())?;
        let meta = file.metadata().await.map_err(|source| Error::Io {
            path: PathBuf::from(&name),
            source,
        })?;
        Ok(Self {
            len: meta.len(),
            file_name: name,
            kind: Kind::File(file),
        })
    }

    /// Bytes in memory.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Result<Self> {
        let bytes = bytes.into();
        Ok(Self {
            len: bytes.len() as u64,
            file_name: check_name(file_name.into())?,
            kind: Kind::Bytes(bytes),
        })
    }

    /// A one-shot stream of exactly `len` bytes. It is sent again only if no attempt has
    /// read from it yet; after that a failed attempt is not retried (see
    /// [`UploadSource::from_fn`] for a stream that can be produced again).
    pub fn stream<S, E>(file_name: impl Into<String>, len: u64, stream: S) -> Result<Self>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let boxed: ByteStream = stream.map_err(Into::into).boxed();
        Ok(Self {
            len,
            file_name: check_name(file_name.into())?,
            kind: Kind::Once(Arc::new(Mutex::new(Some(boxed)))),
        })
    }

    /// A stream of exactly `len` bytes that `make` can produce again for each attempt.
    pub fn from_fn<F, S, E>(file_name: impl Into<String>, len: u64, make: F) -> Result<Self>
    where
        F: Fn() -> S + Send + Sync + 'static,
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let factory: Factory = Arc::new(move || make().map_err(Into::into).boxed());
        Ok(Self {
            len,
            file_name: check_name(file_name.into())?,
            kind: Kind::Factory(factory),
        })
    }

    /// The number of bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the source is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file name the image gets.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Whether another attempt can get the whole body: always, except for a one-shot
    /// stream that an earlier attempt started to read.
    pub(crate) fn replayable(&self) -> bool {
        match &self.kind {
            Kind::Once(slot) => slot.lock().is_ok_and(|s| s.is_some()),
            _ => true,
        }
    }

    /// A fresh body for one attempt, or `None` when a one-shot stream was already used.
    pub(crate) async fn open(&self) -> Result<Option<ByteStream>> {
        let len = self.len;
        Ok(Some(match &self.kind {
            Kind::Path(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                let now = file
                    .metadata()
                    .await
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?
                    .len();
                if now != len {
                    return Err(Error::invalid(
                        "source",
                        format!(
                            "{} changed size ({len} → {now} bytes) before upload",
                            path.display()
                        ),
                    ));
                }
                read_ahead(file.into_std().await, len)
            }
            Kind::File(file) => {
                let io = |source| Error::Io {
                    path: PathBuf::from(&self.file_name),
                    source,
                };
                let mut clone = file.try_clone().await.map_err(io)?;
                tokio::io::AsyncSeekExt::seek(&mut clone, std::io::SeekFrom::Start(0))
                    .await
                    .map_err(io)?;
                read_ahead(clone.into_std().await, len)
            }
            Kind::Bytes(bytes) => {
                futures::stream::once(futures::future::ready(Ok(bytes.clone()))).boxed()
            }
            Kind::Factory(make) => make(),
            Kind::Once(slot) => {
                if !self.replayable() {
                    return Ok(None);
                }
                take_on_first_poll(Arc::clone(slot))
            }
        }))
    }
}

/// A body that moves the one-shot stream out of its slot only when the HTTP stack first
/// polls it: an attempt that fails before sending any byte leaves it there for the next.
fn take_on_first_poll(slot: OnceSlot) -> ByteStream {
    futures::stream::once(async move { slot.lock().ok().and_then(|mut s| s.take()) })
        .flat_map(|taken| match taken {
            Some(stream) => stream,
            None => futures::stream::iter([Err(BoxError::from(
                "the one-shot upload stream was already read by an earlier attempt",
            ))])
            .boxed(),
        })
        .boxed()
}
